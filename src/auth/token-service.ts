import { randomUUID } from 'node:crypto';
import {
  calculateJwkThumbprint,
  exportJWK,
  generateKeyPair,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
} from 'jose';
import type { Clock, SettingStore } from '../core/ports.js';
import type { AccessScope } from './scope.js';

/** The setting that holds the signing key (a private JWK as JSON), shared by every node. */
export const signingKeySetting = 'token-signing-key';

const algorithm = 'ES256';
/** Tokens longer than this are refused unread (a header cannot carry much more anyway). */
const maxTokenChars = 64 * 1024;

export type SubjectKind = 'user' | 'robot' | 'anonymous';

/** Who a token speaks for: a name plus the row id, so a deleted and re-created name is someone else. */
export interface TokenSubject {
  kind: SubjectKind;
  /** Username or robot name; empty for anonymous. */
  name: string;
  id?: number;
}

export interface IssuedToken {
  token: string;
  expiresIn: number;
  issuedAt: Date;
}

export interface VerifiedAccessToken {
  subject: TokenSubject;
  access: AccessScope[];
  expiresAt: Date;
}

export interface VerifiedRefreshToken {
  subject: TokenSubject;
  /** Fingerprint of the credential (password or secret hash) the token was issued against. */
  credential: string;
}

export interface TokenServiceOptions {
  clock: Clock;
  /** Lifetime of access tokens (default 300 s). */
  lifetimeSeconds?: number;
  /** Lifetime of refresh tokens (offline access; default 30 days). */
  refreshLifetimeSeconds?: number;
  /** Clock skew tolerated on `nbf` and `exp` (default 30 s). */
  leewaySeconds?: number;
  issuer?: string;
}

type TokenUse = 'access' | 'refresh';

/**
 * Issues and verifies Docker registry tokens: JWTs signed with ES256. The key is created once for the
 * whole installation and kept in the metadata store (`putIfAbsent`), so nodes that start together end up
 * with the first writer's key and accept each other's tokens. Access and refresh tokens carry a
 * `token_use` claim, so neither can stand in for the other.
 */
export class TokenService {
  readonly issuer: string;
  readonly lifetimeSeconds: number;
  readonly refreshLifetimeSeconds: number;
  private readonly leewaySeconds: number;

  private constructor(
    private readonly privateKey: CryptoKey,
    private readonly publicKey: CryptoKey,
    readonly keyId: string,
    private readonly clock: Clock,
    options: TokenServiceOptions,
  ) {
    this.issuer = options.issuer ?? 'berth';
    this.lifetimeSeconds = options.lifetimeSeconds ?? 300;
    this.refreshLifetimeSeconds = options.refreshLifetimeSeconds ?? 30 * 24 * 3600;
    this.leewaySeconds = options.leewaySeconds ?? 30;
  }

  /** Loads the installation's signing key, creating it if no node has yet. */
  static async open(settings: SettingStore, options: TokenServiceOptions): Promise<TokenService> {
    let stored = await settings.get(signingKeySetting);
    stored ??= await settings.putIfAbsent(signingKeySetting, await newSigningKey());
    const { privateKey, publicKey, keyId } = await loadSigningKey(stored);
    return new TokenService(privateKey, publicKey, keyId, options.clock, options);
  }

  /** An access token for the registry `audience` granting `access`. */
  async issueAccess(subject: TokenSubject, audience: string, access: AccessScope[]): Promise<IssuedToken> {
    const issuedAt = this.clock.now();
    const token = await this.sign('access', subject, audience, issuedAt, this.lifetimeSeconds, {
      access: access.map((a) => ({ type: a.type, name: a.name, actions: [...a.actions] })),
    });
    return { token, expiresIn: this.lifetimeSeconds, issuedAt };
  }

  /** A long-lived token that can be exchanged for access tokens while the credential stays the same. */
  issueRefresh(subject: TokenSubject, audience: string, credential: string): Promise<string> {
    return this.sign('refresh', subject, audience, this.clock.now(), this.refreshLifetimeSeconds, {
      cred: credential,
    });
  }

  /** The token's subject and access, or undefined for anything not a valid, current access token of ours. */
  async verifyAccess(token: string, audience: string): Promise<VerifiedAccessToken | undefined> {
    const payload = await this.verify(token, audience, 'access');
    if (payload === undefined) return undefined;
    const access = parseAccessClaim(payload.access);
    if (access === undefined) return undefined;
    return { subject: subjectOf(payload)!, access, expiresAt: new Date(payload.exp! * 1000) };
  }

  async verifyRefresh(token: string, audience: string): Promise<VerifiedRefreshToken | undefined> {
    const payload = await this.verify(token, audience, 'refresh');
    if (payload === undefined || typeof payload.cred !== 'string') return undefined;
    const subject = subjectOf(payload)!;
    if (subject.kind === 'anonymous') return undefined;
    return { subject, credential: payload.cred };
  }

  private sign(
    use: TokenUse,
    subject: TokenSubject,
    audience: string,
    issuedAt: Date,
    lifetimeSeconds: number,
    claims: Record<string, unknown>,
  ): Promise<string> {
    const iat = Math.floor(issuedAt.getTime() / 1000);
    return new SignJWT({
      ...claims,
      token_use: use,
      sub_type: subject.kind,
      ...(subject.id !== undefined && { sub_id: subject.id }),
    })
      .setProtectedHeader({ alg: algorithm, typ: 'JWT', kid: this.keyId })
      .setIssuer(this.issuer)
      .setSubject(subject.kind === 'anonymous' ? '' : subject.name)
      .setAudience(audience)
      .setIssuedAt(iat)
      .setNotBefore(iat)
      .setExpirationTime(iat + lifetimeSeconds)
      .setJti(randomUUID())
      .sign(this.privateKey);
  }

  private async verify(token: string, audience: string, use: TokenUse): Promise<JWTPayload | undefined> {
    if (token.length === 0 || token.length > maxTokenChars) return undefined;
    try {
      const { payload } = await jwtVerify(
        token,
        (header) => {
          if (header.kid !== this.keyId) throw new Error('unknown signing key');
          return this.publicKey;
        },
        {
          algorithms: [algorithm],
          issuer: this.issuer,
          audience,
          clockTolerance: this.leewaySeconds,
          currentDate: this.clock.now(),
          requiredClaims: ['sub', 'exp', 'nbf', 'iat', 'jti'],
        },
      );
      if (payload.token_use !== use || subjectOf(payload) === undefined) return undefined;
      // jose checks exp and nbf; an iat from the future is just as wrong.
      if (payload.iat! > this.clock.now().getTime() / 1000 + this.leewaySeconds) return undefined;
      return payload;
    } catch {
      return undefined;
    }
  }
}

async function newSigningKey(): Promise<string> {
  const { privateKey } = await generateKeyPair(algorithm, { extractable: true });
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint({ kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y });
  return JSON.stringify({ ...jwk, kid, alg: algorithm });
}

async function loadSigningKey(
  stored: string,
): Promise<{ privateKey: CryptoKey; publicKey: CryptoKey; keyId: string }> {
  let jwk: JWK;
  try {
    jwk = JSON.parse(stored) as JWK;
  } catch {
    throw new Error(`the stored ${signingKeySetting} is not JSON`);
  }
  if (jwk.kty !== 'EC' || jwk.crv !== 'P-256' || typeof jwk.d !== 'string' || typeof jwk.kid !== 'string') {
    throw new Error(`the stored ${signingKeySetting} is not a P-256 private key`);
  }
  const publicJwk: JWK = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
  const privateKey = await importJWK(jwk, algorithm);
  const publicKey = await importJWK(publicJwk, algorithm);
  if (!isCryptoKey(privateKey) || !isCryptoKey(publicKey))
    throw new Error(`cannot load ${signingKeySetting}`);
  return { privateKey, publicKey, keyId: jwk.kid };
}

function isCryptoKey(key: unknown): key is CryptoKey {
  return typeof key === 'object' && key !== null && 'type' in key && 'algorithm' in key;
}

function subjectOf(payload: JWTPayload): TokenSubject | undefined {
  const kind = payload.sub_type;
  const name = payload.sub;
  if (typeof name !== 'string') return undefined;
  if (kind === 'anonymous') return name === '' ? { kind, name } : undefined;
  if (kind !== 'user' && kind !== 'robot') return undefined;
  const id = payload.sub_id;
  if (name === '' || typeof id !== 'number' || !Number.isSafeInteger(id)) return undefined;
  return { kind, name, id };
}

function parseAccessClaim(value: unknown): AccessScope[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const access: AccessScope[] = [];
  for (const entry of value as unknown[]) {
    if (typeof entry !== 'object' || entry === null) return undefined;
    const { type, name, actions } = entry as Record<string, unknown>;
    if (typeof type !== 'string' || typeof name !== 'string' || !Array.isArray(actions)) return undefined;
    if (!actions.every((a): a is string => typeof a === 'string')) return undefined;
    access.push({ type, name, actions });
  }
  return access;
}
