import type { IncomingMessage } from 'node:http';
import { allowedActions, tokenCovers } from '../../auth/grants.js';
import type { LoginService } from '../../auth/login.js';
import { accountOf, type SubjectResolver } from '../../auth/subjects.js';
import type { TokenService, VerifiedAccessToken } from '../../auth/token-service.js';
import type { CallerAccess } from '../../core/content/access.js';
import type { AccessService } from '../../core/iam/access.js';
import { anonymous, maySystem, projectOfRepository, type Subject } from '../../core/iam/policy.js';
import type { Clock } from '../../core/ports.js';
import type { V2Authorizer, V2Decision, V2Scope } from '../oci/access.js';
import { BasicLogin } from './basic-login.js';
import { externalBase, readCredentials } from './credentials.js';

export interface PolicyAuthorizerOptions {
  tokens: TokenService;
  login: LoginService;
  access: AccessService;
  subjects: SubjectResolver;
  clock: Clock;
  service: string;
  /** Base URL clients reach Berth at; derived from the request when absent. */
  externalUrl?: string;
  /** How long a successful Basic login is remembered (default 5 s, the bound every other access cache keeps), so argon2 does not run per request. */
  basicCacheMs?: number;
}

/** Who sent a request, and how. */
type Caller =
  | { via: 'none'; subject: Subject }
  | { via: 'basic'; subject: Subject }
  | { via: 'bearer'; subject: Subject; token: VerifiedAccessToken };

/**
 * The `/v2` authorizer backed by the IAM policy. Bearer tokens must cover the request's scope, and their
 * subject and the policy are checked again on every request (through caches of a few seconds), so a
 * robot disabled or a member removed loses access before the token runs out. Basic credentials are
 * accepted straight on `/v2`; successful ones are remembered for a minute by a hash of the header.
 */
export class PolicyAuthorizer implements V2Authorizer {
  private readonly basic: BasicLogin;

  constructor(private readonly options: PolicyAuthorizerOptions) {
    this.basic = new BasicLogin({
      login: options.login,
      subjects: options.subjects,
      clock: options.clock,
      ...(options.basicCacheMs !== undefined && { cacheMs: options.basicCacheMs }),
    });
  }

  async authorize(req: IncomingMessage, scope: V2Scope): Promise<V2Decision> {
    const identified = await this.identify(req);
    if ('decision' in identified) return identified.decision;
    const caller = identified;
    const account = accountOf(caller.subject);
    switch (scope.type) {
      case 'base':
        // Docker's login check: anyone who presented valid credentials or a valid token may see 200.
        return caller.via === 'none'
          ? this.challenge(req)
          : { ok: true, access: this.accessFor(caller), ...(account !== undefined && { account }) };
      case 'registry': {
        const allowed = maySystem(caller.subject, 'catalog:read');
        const covered =
          caller.via !== 'bearer' || tokenCovers(caller.token.access, 'registry', 'catalog', ['*']);
        return this.decide(
          req,
          caller,
          'registry:catalog:*',
          allowed,
          covered,
          'the catalog is for system administrators',
        );
      }
      case 'repository': {
        const allowed = await allowedActions(this.options.access, caller.subject, scope.name);
        const permitted = scope.actions.every((action) => allowed.has(action));
        const covered =
          caller.via !== 'bearer' ||
          tokenCovers(caller.token.access, 'repository', scope.name, scope.actions);
        const denial = permitted ? '' : await this.denialMessage(caller.subject, scope.name, scope.actions);
        return this.decide(
          req,
          caller,
          `repository:${scope.name}:${scope.actions.join(',')}`,
          permitted,
          covered,
          denial,
        );
      }
    }
  }

  private decide(
    req: IncomingMessage,
    caller: Caller,
    scope: string,
    permitted: boolean,
    covered: boolean,
    denial: string,
  ): V2Decision {
    if (permitted && covered) {
      const account = accountOf(caller.subject);
      return { ok: true, access: this.accessFor(caller), ...(account !== undefined && { account }) };
    }
    // Without credentials the answer is always the challenge: the client should log in and come back.
    if (caller.via === 'none') return this.challenge(req, scope);
    // A token that lacks the scope (or an anonymous token) is the client's to renew: 401, not 403.
    if (caller.via === 'bearer' && (permitted || caller.subject.kind === 'anonymous')) {
      return this.challenge(req, scope, 'insufficient_scope');
    }
    return { ok: false, status: 403, headers: {}, message: denial };
  }

  /** Whether a mount may read `source`: the same token and the same policy as the request itself. */
  private accessFor(caller: Caller): CallerAccess {
    return {
      mayRead: async (source) => {
        if (caller.via === 'bearer' && !tokenCovers(caller.token.access, 'repository', source, ['pull']))
          return false;
        return (await allowedActions(this.options.access, caller.subject, source)).has('pull');
      },
    };
  }

  private async denialMessage(subject: Subject, repository: string, actions: string[]): Promise<string> {
    const generic = 'requested access to the resource is denied';
    if (!actions.includes('push')) return generic;
    const project = projectOfRepository(repository);
    if (project === undefined) {
      return `repository ${repository} is not in a project: push to <project>/${repository} (the project must exist)`;
    }
    const context = await this.options.access.context(subject, project);
    return context === undefined ? `project ${project} does not exist` : generic;
  }

  private async identify(req: IncomingMessage): Promise<Caller | { decision: V2Decision }> {
    const credentials = readCredentials(req);
    switch (credentials.scheme) {
      case 'none':
        return { via: 'none', subject: anonymous };
      case 'invalid':
        return { decision: this.challenge(req, undefined, 'invalid_token', 'invalid authorization header') };
      case 'bearer': {
        const token = await this.options.tokens.verifyAccess(credentials.token, this.options.service);
        const subject = token === undefined ? undefined : await this.options.subjects.resolve(token.subject);
        if (token === undefined || subject === undefined) {
          return { decision: this.challenge(req, undefined, 'invalid_token', 'invalid or expired token') };
        }
        return { via: 'bearer', subject, token };
      }
      case 'basic': {
        const result = await this.basic.authenticate(req, credentials.username, credentials.password);
        if (result.ok) return { via: 'basic', subject: result.subject };
        if (result.reason === 'limited') {
          return {
            decision: {
              ok: false,
              status: 429,
              headers: { 'Retry-After': String(result.retryAfterSeconds) },
              message: 'too many failed logins; try again later',
            },
          };
        }
        return { decision: this.challenge(req, undefined, undefined, 'invalid username or password') };
      }
    }
  }

  /** 401 with the Bearer challenge that sends the client to the token endpoint. */
  private challenge(
    req: IncomingMessage,
    scope?: string,
    error?: string,
    message = 'authentication required',
  ): V2Decision {
    const realm = `${externalBase(req, this.options.externalUrl)}/service/token`;
    let header = `Bearer realm="${realm}",service="${this.options.service}"`;
    if (scope !== undefined) header += `,scope="${scope}"`;
    if (error !== undefined) header += `,error="${error}"`;
    return { ok: false, status: 401, headers: { 'WWW-Authenticate': header }, message };
  }
}
