import type { IncomingMessage } from 'node:http';
import type { LoginResult } from '../../auth/login.js';
import { accountOf, type SubjectResolver } from '../../auth/subjects.js';
import type { AccessService } from '../../core/iam/access.js';
import type { ProjectPermission } from '../../core/iam/permissions.js';
import { anonymous, type Subject } from '../../core/iam/policy.js';
import type { Clock } from '../../core/ports.js';
import { BasicLogin } from '../auth/basic-login.js';
import { readCredentials } from '../auth/credentials.js';

export type ChartAction = 'pull' | 'push' | 'delete';

export type ChartDecision =
  | { ok: true; subject: Subject; account?: string }
  | { ok: false; status: 401 | 403 | 404 | 429; message: string; headers: Record<string, string> };

export interface ChartAuthOptions {
  /** False: authentication is off and everyone may do everything (as on `/v2`). */
  enabled: boolean;
  login: { login(name: string, secret: string, source: string): Promise<LoginResult> };
  access: AccessService;
  subjects: SubjectResolver;
  clock: Clock;
  /** How long a successful Basic login is remembered (default 5 s, the bound every other access cache keeps), so argon2 does not run per request. */
  basicCacheMs?: number;
}

/** The same repository permissions `/v2` checks for pull, push and delete. */
const permissionOf: Record<ChartAction, ProjectPermission> = {
  pull: 'repository:pull',
  push: 'repository:push',
  delete: 'repository:delete',
};

const challenge = { 'WWW-Authenticate': 'Basic realm="berth", charset="UTF-8"' };

/**
 * Decides chart repository requests with the one IAM policy, as `/v2` does: the caller's repository
 * permissions in the project. Callers identify with Basic credentials (users and robots), which is what
 * `helm repo add --username --password` and ChartMuseum clients send; anonymous callers may read public
 * projects and get a Basic challenge otherwise.
 */
export class ChartAuthorizer {
  private readonly basic: BasicLogin;

  constructor(private readonly options: ChartAuthOptions) {
    this.basic = new BasicLogin({
      login: options.login,
      subjects: options.subjects,
      clock: options.clock,
      ...(options.basicCacheMs !== undefined && { cacheMs: options.basicCacheMs }),
    });
  }

  async authorize(req: IncomingMessage, project: string, actions: ChartAction[]): Promise<ChartDecision> {
    if (!this.options.enabled) return { ok: true, subject: anonymous };
    const identified = await this.identify(req);
    if ('status' in identified) return identified;
    const subject = identified.subject;
    const account = accountOf(subject);
    const context = await this.options.access.context(subject, project);
    if (context === undefined) {
      return subject.kind === 'anonymous' ? unauthorized() : refuse(404, `project ${project} not found`);
    }
    const permissions = await this.options.access.permissions(subject, project);
    if (actions.every((action) => permissions.has(permissionOf[action]))) {
      return { ok: true, subject, ...(account !== undefined && { account }) };
    }
    return subject.kind === 'anonymous'
      ? unauthorized()
      : refuse(403, 'forbidden: you may not do this in this project');
  }

  /** Whether the subject also holds `action` (used for `?force`, which replaces an existing version). */
  async may(subject: Subject, project: string, action: ChartAction): Promise<boolean> {
    if (!this.options.enabled) return true;
    return (await this.options.access.permissions(subject, project)).has(permissionOf[action]);
  }

  private async identify(
    req: IncomingMessage,
  ): Promise<{ subject: Subject } | Extract<ChartDecision, { ok: false }>> {
    const credentials = readCredentials(req);
    if (credentials.scheme === 'none') return { subject: anonymous };
    if (credentials.scheme !== 'basic')
      return unauthorized('use Basic authentication (a user or robot name and password)');
    const result = await this.basic.authenticate(req, credentials.username, credentials.password);
    if (result.ok) return { subject: result.subject };
    if (result.reason === 'limited') {
      return {
        ok: false,
        status: 429,
        message: 'too many failed logins; try again later',
        headers: { 'Retry-After': String(result.retryAfterSeconds) },
      };
    }
    return unauthorized('invalid username or password');
  }
}

function unauthorized(message = 'authentication required'): Extract<ChartDecision, { ok: false }> {
  return { ok: false, status: 401, message, headers: challenge };
}

function refuse(status: 403 | 404, message: string): Extract<ChartDecision, { ok: false }> {
  return { ok: false, status, message, headers: {} };
}
