import { RegistryError } from '../errors.js';

/** A validated digest such as `sha256:<64 hex>`. Only sha256 and sha512 are accepted for content. */
export type Digest = string & { readonly __brand: 'Digest' };
export type DigestAlgorithm = 'sha256' | 'sha512';

const encodedLength: Record<DigestAlgorithm, number> = { sha256: 64, sha512: 128 };
const digestGrammar = /^([a-z0-9]+(?:[+._-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export type DigestParse =
  { ok: true; digest: Digest; algorithm: DigestAlgorithm; hex: string } | { ok: false; reason: string };

/**
 * Parses a digest string. Storage paths are derived only from digests that pass here, so the hex part
 * is checked to be exactly lower-case hex of the algorithm's length: nothing else can reach a path.
 */
export function parseDigest(value: string): DigestParse {
  const match = digestGrammar.exec(value);
  if (!match) return { ok: false, reason: `"${truncate(value)}" is not a digest` };
  const algorithm = match[1]!;
  const hex = match[2]!;
  if (algorithm !== 'sha256' && algorithm !== 'sha512') {
    return { ok: false, reason: `unsupported digest algorithm "${truncate(algorithm)}"` };
  }
  if (hex.length !== encodedLength[algorithm] || !/^[a-f0-9]+$/.test(hex)) {
    return {
      ok: false,
      reason: `${algorithm} digest must be ${encodedLength[algorithm]} lower-case hex characters`,
    };
  }
  return { ok: true, digest: value as Digest, algorithm, hex };
}

/** Parses or throws DIGEST_INVALID. */
export function requireDigest(value: string): Digest {
  const parsed = parseDigest(value);
  if (!parsed.ok) throw new RegistryError('DIGEST_INVALID', parsed.reason, { digest: truncate(value) });
  return parsed.digest;
}

export function digestAlgorithm(digest: Digest): DigestAlgorithm {
  return digest.slice(0, digest.indexOf(':')) as DigestAlgorithm;
}

export function digestHex(digest: Digest): string {
  return digest.slice(digest.indexOf(':') + 1);
}

export function makeDigest(algorithm: DigestAlgorithm, hex: string): Digest {
  return `${algorithm}:${hex}` as Digest;
}

function truncate(value: string): string {
  return value.length > 80 ? `${value.slice(0, 80)}...` : value;
}
