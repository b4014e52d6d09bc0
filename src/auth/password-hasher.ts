import { hash, verify, type Options } from '@node-rs/argon2';
import type { PasswordHasher } from '../core/ports.js';

/** Argon2 cost parameters. Memory is in KiB. */
export interface Argon2Cost {
  memoryCost: number;
  timeCost: number;
  parallelism: number;
}

/**
 * OWASP's first recommended argon2id setting (19 MiB, 2 passes, 1 lane): about 20-40 ms per hash on a
 * server core, which makes guessing expensive without letting a burst of logins exhaust memory.
 */
export const defaultArgon2Cost: Argon2Cost = { memoryCost: 19_456, timeCost: 2, parallelism: 1 };

// `Algorithm` is an ambient const enum that the package does not export at run time; 2 is Argon2id.
const argon2id = 2 as NonNullable<Options['algorithm']>;

/** Hashes passwords and robot secrets with argon2id; the PHC string keeps salt and parameters. */
export class Argon2PasswordHasher implements PasswordHasher {
  constructor(private readonly cost: Argon2Cost = defaultArgon2Cost) {}

  hash(secret: string): Promise<string> {
    return hash(secret, { algorithm: argon2id, ...this.cost });
  }

  /** False for a wrong secret and for a stored value that is not an argon2 hash (never throws). */
  async verify(stored: string, secret: string): Promise<boolean> {
    if (!stored.startsWith('$argon2')) return false;
    try {
      return await verify(stored, secret);
    } catch {
      return false;
    }
  }
}
