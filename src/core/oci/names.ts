import { RegistryError } from '../errors.js';
import { parseDigest, type Digest } from './digest.js';

// distribution-spec's grammar for repository names and tags.
const pathComponent = '[a-z0-9]+(?:(?:\\.|_|__|-+)[a-z0-9]+)*';
const repositoryGrammar = new RegExp(`^${pathComponent}(?:/${pathComponent})*$`);
const tagGrammar = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

/** Clients cap `host[:port]/name` at 255 characters; a name alone longer than that can never be pulled. */
export const maxRepositoryNameLength = 255;

export type RepositoryName = string & { readonly __brand: 'RepositoryName' };
export type Tag = string & { readonly __brand: 'Tag' };

export function isRepositoryName(value: string): value is RepositoryName {
  return value.length <= maxRepositoryNameLength && repositoryGrammar.test(value);
}

export function requireRepositoryName(value: string): RepositoryName {
  if (!isRepositoryName(value)) {
    throw new RegistryError('NAME_INVALID', 'invalid repository name', { name: value.slice(0, 300) });
  }
  return value;
}

export function isTag(value: string): value is Tag {
  return tagGrammar.test(value);
}

export function requireTag(value: string): Tag {
  if (!isTag(value)) throw new RegistryError('TAG_INVALID', 'invalid tag', { tag: value.slice(0, 200) });
  return value;
}

/** A manifest reference: a tag or a digest. */
export type Reference = { kind: 'tag'; tag: Tag } | { kind: 'digest'; digest: Digest };

/**
 * Reads a reference from a URL segment. Anything with a colon is meant as a digest (tags cannot hold
 * one), so a malformed digest is DIGEST_INVALID rather than an unknown tag.
 */
export function parseReference(value: string): Reference {
  if (value.includes(':')) {
    const parsed = parseDigest(value);
    if (!parsed.ok)
      throw new RegistryError('DIGEST_INVALID', parsed.reason, { reference: value.slice(0, 200) });
    return { kind: 'digest', digest: parsed.digest };
  }
  if (!isTag(value)) throw new RegistryError('TAG_INVALID', 'invalid tag', { tag: value.slice(0, 200) });
  return { kind: 'tag', tag: value };
}
