import { randomInt } from 'node:crypto';
import { RegistryError } from '../errors.js';

/**
 * Harbor's input rules for names, secrets and profiles, in one place so that the use cases and their
 * tests agree. Each `require*` throws BAD_REQUEST with Harbor's wording.
 */

/** Harbor's project (and robot) name grammar. */
const nameGrammar = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;
export const maxProjectNameLength = 255;

export function requireProjectName(name: string): string {
  if (name.length === 0 || name.length > maxProjectNameLength || !nameGrammar.test(name)) {
    throw badRequest(
      `project name must match ${nameGrammar.source} and be at most ${maxProjectNameLength} characters`,
    );
  }
  return name;
}

export function requireRobotName(name: string): string {
  if (name.length === 0 || name.length > 255 || !nameGrammar.test(name)) {
    throw badRequest('robot name is not in lower case or contains illegal characters');
  }
  return name;
}

/** Harbor's password and secret rule: 8 to 128 characters with an upper- and a lower-case letter and a digit. */
export function isStrongSecret(secret: string): boolean {
  return (
    secret.length >= 8 &&
    secret.length <= 128 &&
    /[a-z]/.test(secret) &&
    /[A-Z]/.test(secret) &&
    /[0-9]/.test(secret)
  );
}

export function requireStrongSecret(secret: string): string {
  if (!isStrongSecret(secret)) {
    throw badRequest(
      'the password or secret must be 8 to 128 characters with at least 1 uppercase letter, 1 lowercase letter and 1 number',
    );
  }
  return secret;
}

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * A random secret of `length` characters (default 32, about 190 bits) drawn uniformly from letters and
 * digits with `crypto.randomInt`, redrawn until it has an upper, a lower and a digit so that it also meets
 * Harbor's rule when a client later sends it back.
 */
export function generateSecret(length = 32): string {
  const size = Math.min(Math.max(length, 8), 128);
  for (;;) {
    let secret = '';
    for (let i = 0; i < size; i++) secret += alphabet[randomInt(alphabet.length)];
    if (isStrongSecret(secret)) return secret;
  }
}

const illegalNameChars = [',', '~', '#', '$', '%', '"'];
// Harbor's e-mail pattern (validateUserProfile).
const emailPattern =
  /^(([^<>()[\]\\.,;:\s@"]+(\.[^<>()[\]\\.,;:\s@"]+)*)|(".+"))@((\[[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\])|(([a-zA-Z\-0-9]+\.)+[a-zA-Z]{2,}))$/;

export function requireUsername(username: string): string {
  if (username.length === 0 || username.length > 255) throw badRequest('username with illegal length');
  if (illegalNameChars.some((c) => username.includes(c)) || /\s/.test(username)) {
    throw badRequest('username contains illegal characters');
  }
  return username;
}

export interface Profile {
  email: string;
  realname: string;
  comment: string;
}

/** Harbor's profile rules: an e-mail is required, a real name of 1-255 characters, a comment of at most 30. */
export function requireProfile(profile: Profile): Profile {
  if (profile.email === '') throw badRequest("email can't be empty");
  if (profile.email.length > 255 || !emailPattern.test(profile.email))
    throw badRequest('email with illegal format');
  if (profile.realname.length === 0 || profile.realname.length > 255)
    throw badRequest('realname with illegal length');
  if (illegalNameChars.some((c) => profile.realname.includes(c))) {
    throw badRequest('realname contains illegal characters');
  }
  if (profile.comment.length > 30) throw badRequest('comment with illegal length');
  return profile;
}

/** Go's strconv.ParseBool, which Harbor uses for boolean metadata values. */
export function parseHarborBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

export function badRequest(message: string, detail?: unknown): RegistryError {
  return new RegistryError('BAD_REQUEST', message, detail);
}

export function notFound(message: string): RegistryError {
  return new RegistryError('NOT_FOUND', message);
}
