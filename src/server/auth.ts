import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { LoginService } from '../auth/login.js';
import { Argon2PasswordHasher } from '../auth/password-hasher.js';
import { SubjectResolver } from '../auth/subjects.js';
import { TokenService } from '../auth/token-service.js';
import { AccessService } from '../core/iam/access.js';
import { IdentityService } from '../core/iam/identity.js';
import { LoginLimiter } from '../core/iam/login-limiter.js';
import type { Clock, MetadataStore, PasswordHasher } from '../core/ports.js';
import { createTokenEndpoint } from '../http/auth/token-endpoint.js';
import { PolicyAuthorizer } from '../http/auth/v2-authorizer.js';
import { openAuthorizer, type V2Authorizer } from '../http/oci/access.js';
import type { BerthConfig } from './config.js';

/** The identity and access services of one node, shared by every edge (`/v2`, `/service/token`, `/api`). */
export interface AuthServices {
  hasher: PasswordHasher;
  identity: IdentityService;
  access: AccessService;
  limiter: LoginLimiter;
  login: LoginService;
  subjects: SubjectResolver;
  /** Undefined when authentication is disabled. */
  tokens?: TokenService;
}

export interface AuthWiring {
  services: AuthServices;
  authorizer: V2Authorizer;
  /** The `/service/token` handler; undefined when authentication is disabled. */
  tokenEndpoint?: (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    log: Logger,
    fields: Record<string, unknown>,
  ) => Promise<void>;
}

/**
 * Builds the auth services from the config. With `auth.enabled: false` the `/v2` edge is open to everyone
 * (the open authorizer) and there is no token endpoint.
 */
export async function createAuth(
  config: BerthConfig,
  metadata: MetadataStore,
  clock: Clock,
): Promise<AuthWiring> {
  const hasher = new Argon2PasswordHasher();
  const identity = new IdentityService(metadata, hasher, clock);
  const access = new AccessService(metadata, clock);
  const limiter = new LoginLimiter(clock);
  const login = new LoginService(identity, limiter);
  const subjects = new SubjectResolver(identity, clock);
  const services: AuthServices = { hasher, identity, access, limiter, login, subjects };
  if (!config.auth.enabled) return { services, authorizer: openAuthorizer };

  const tokens = await TokenService.open(metadata.settings, {
    clock,
    lifetimeSeconds: config.auth.tokenLifetimeSeconds,
    refreshLifetimeSeconds: config.auth.refreshTokenLifetimeSeconds,
  });
  const { service, externalUrl } = config.auth;
  const authorizer = new PolicyAuthorizer({
    tokens,
    login,
    access,
    subjects,
    clock,
    service,
    ...(externalUrl !== undefined && { externalUrl }),
  });
  const tokenEndpoint = createTokenEndpoint({ tokens, login, access, subjects, metadata, service });
  return { services: { ...services, tokens }, authorizer, tokenEndpoint };
}
