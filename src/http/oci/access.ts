import type { IncomingMessage } from 'node:http';
import type { CallerAccess } from '../../core/content/access.js';
import { unrestrictedAccess } from '../../core/content/access.js';

/** What a `/v2` request asks to do, in token-scope terms. */
export type V2Scope =
  | { type: 'repository'; name: string; actions: ('pull' | 'push' | 'delete')[] }
  | { type: 'registry'; name: 'catalog'; actions: ['*'] }
  | { type: 'base' };

export type V2Decision =
  /** `account` names the caller in the request log (never a secret). */
  | { ok: true; access: CallerAccess; account?: string }
  | { ok: false; status: 401 | 403 | 429; headers: Record<string, string>; message: string };

/** Decides every `/v2` request. The access-control issue replaces the open default with the IAM policy. */
export interface V2Authorizer {
  authorize(req: IncomingMessage, scope: V2Scope): Promise<V2Decision>;
}

export const openAuthorizer: V2Authorizer = {
  authorize: () => Promise.resolve({ ok: true, access: unrestrictedAccess }),
};
