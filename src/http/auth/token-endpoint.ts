import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { grantScopes } from '../../auth/grants.js';
import type { LoginResult, LoginService } from '../../auth/login.js';
import { formatScopes, parseScopes } from '../../auth/scope.js';
import {
  accountOf,
  credentialFingerprint,
  tokenSubjectOf,
  type SubjectResolver,
} from '../../auth/subjects.js';
import type { TokenService } from '../../auth/token-service.js';
import type { AccessService } from '../../core/iam/access.js';
import { anonymous, type Subject } from '../../core/iam/policy.js';
import type { MetadataStore } from '../../core/ports.js';
import { sendJson } from '../oci/context.js';
import { readCredentials, sourceAddress } from './credentials.js';

export interface TokenEndpointOptions {
  tokens: TokenService;
  login: LoginService;
  access: AccessService;
  subjects: SubjectResolver;
  metadata: MetadataStore;
  /** The registry's service name: the only audience tokens are issued for. */
  service: string;
}

/** Largest form body accepted by POST. */
const maxFormBytes = 64 * 1024;

type Outcome = { ok: true; subject: Subject } | { ok: false; send: (res: ServerResponse) => void };

/**
 * `/service/token`: the Docker token endpoint (GET with optional Basic credentials) and its OAuth2 form
 * (POST, `grant_type=password` or `refresh_token`). Grants the intersection of the scopes asked for and
 * what the policy allows; anonymous callers get what anonymous may do (pulls from public projects).
 */
export function createTokenEndpoint(options: TokenEndpointOptions) {
  return async (
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    log: Logger,
    fields: Record<string, unknown>,
  ) => {
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Pragma', 'no-cache');
    try {
      if (req.method === 'GET' || req.method === 'HEAD')
        return await handleGet(options, req, res, url, fields);
      if (req.method === 'POST') return await handlePost(options, req, res, fields);
      return sendError(res, 405, 'METHOD_NOT_ALLOWED', `${req.method} is not supported here`, {
        Allow: 'GET, POST',
      });
    } catch (error) {
      log.error({ err: error }, 'token endpoint failure');
      if (res.headersSent) res.destroy();
      else sendError(res, 500, 'UNKNOWN', 'internal error');
    }
  };
}

async function handleGet(
  options: TokenEndpointOptions,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  fields: Record<string, unknown>,
): Promise<void> {
  const query = url.searchParams;
  if (!serviceMatches(options, query.get('service'), res)) return;
  const scopes = parseScopes(query.getAll('scope'));
  const credentials = readCredentials(req);
  let subject: Subject = anonymous;
  if (credentials.scheme === 'basic') {
    fields.account = credentials.username.slice(0, 256);
    const result = await options.login.login(credentials.username, credentials.password, sourceAddress(req));
    const outcome = loginOutcome(result);
    if (!outcome.ok) return outcome.send(res);
    subject = outcome.subject;
  } else if (credentials.scheme !== 'none') {
    return sendError(res, 401, 'UNAUTHORIZED', 'use Basic credentials to get a token');
  } else if (scopes.length === 0) {
    // Harbor's behaviour: without credentials and without a scope there is nothing to hand out, and
    // answering 401 is what makes `docker login` with no or bad credentials fail.
    return sendError(res, 401, 'UNAUTHORIZED', 'authentication required');
  }
  await respond(options, res, subject, scopes, query.get('offline_token') === 'true', false);
}

async function handlePost(
  options: TokenEndpointOptions,
  req: IncomingMessage,
  res: ServerResponse,
  fields: Record<string, unknown>,
): Promise<void> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    req.resume();
    return sendError(res, 400, 'BAD_REQUEST', 'the body must be application/x-www-form-urlencoded');
  }
  const body = await readBody(req, maxFormBytes);
  if (body === undefined) {
    res.setHeader('Connection', 'close');
    return sendError(res, 413, 'PAYLOAD_TOO_LARGE', `the form is larger than ${maxFormBytes} bytes`);
  }
  const form = new URLSearchParams(body);
  if (!serviceMatches(options, form.get('service'), res)) return;
  const scopes = parseScopes(form.getAll('scope'));
  const grantType = form.get('grant_type');
  fields.grant = grantType?.slice(0, 32);
  let outcome: Outcome;
  if (grantType === 'password') {
    const username = form.get('username');
    const password = form.get('password');
    if (username === null || password === null || username === '') {
      return sendError(res, 400, 'BAD_REQUEST', 'grant_type=password needs username and password');
    }
    fields.account = username.slice(0, 256);
    outcome = loginOutcome(await options.login.login(username, password, sourceAddress(req)));
  } else if (grantType === 'refresh_token') {
    const token = form.get('refresh_token');
    if (token === null || token === '') return sendError(res, 400, 'BAD_REQUEST', 'refresh_token is missing');
    outcome = await refreshOutcome(options, token);
  } else {
    return sendError(res, 400, 'BAD_REQUEST', 'grant_type must be password or refresh_token');
  }
  if (!outcome.ok) return outcome.send(res);
  fields.account = accountOf(outcome.subject);
  const offline = grantType === 'password' && form.get('access_type') === 'offline';
  await respond(options, res, outcome.subject, scopes, offline, true);
}

async function respond(
  options: TokenEndpointOptions,
  res: ServerResponse,
  subject: Subject,
  scopes: ReturnType<typeof parseScopes>,
  offline: boolean,
  oauth: boolean,
): Promise<void> {
  const access = await grantScopes(options.access, subject, scopes);
  const tokenSubject = tokenSubjectOf(subject);
  const issued = await options.tokens.issueAccess(tokenSubject, options.service, access);
  const body: Record<string, unknown> = {
    token: issued.token,
    access_token: issued.token,
    expires_in: issued.expiresIn,
    issued_at: issued.issuedAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  };
  if (oauth) body.scope = formatScopes(access);
  if (offline && subject.kind !== 'anonymous') {
    const credential = await credentialFingerprint(options.metadata, tokenSubject);
    if (credential !== undefined) {
      body.refresh_token = await options.tokens.issueRefresh(tokenSubject, options.service, credential);
    }
  }
  sendJson(res, 200, body);
}

/** A refresh token is good while its subject exists, is active, and still has the same credential. */
async function refreshOutcome(options: TokenEndpointOptions, token: string): Promise<Outcome> {
  const refusal: Outcome = {
    ok: false,
    send: (res) => sendError(res, 401, 'UNAUTHORIZED', 'invalid refresh token'),
  };
  const verified = await options.tokens.verifyRefresh(token, options.service);
  if (verified === undefined) return refusal;
  const subject = await options.subjects.resolve(verified.subject);
  if (subject === undefined) return refusal;
  const credential = await credentialFingerprint(options.metadata, verified.subject);
  if (credential !== verified.credential) return refusal;
  return { ok: true, subject };
}

function loginOutcome(result: LoginResult): Outcome {
  if (result.ok) return { ok: true, subject: result.subject };
  if (result.reason === 'limited') {
    const retryAfter = String(result.retryAfterSeconds);
    return {
      ok: false,
      send: (res) =>
        sendError(res, 429, 'TOOMANYREQUESTS', 'too many failed logins; try again later', {
          'Retry-After': retryAfter,
        }),
    };
  }
  return { ok: false, send: (res) => sendError(res, 401, 'UNAUTHORIZED', 'invalid username or password') };
}

function serviceMatches(options: TokenEndpointOptions, service: string | null, res: ServerResponse): boolean {
  if (service === null || service === '' || service === options.service) return true;
  sendError(res, 400, 'BAD_REQUEST', `unable to handle service: ${service.slice(0, 100)}`);
  return false;
}

/**
 * The body as text, or undefined when it exceeds `limit` bytes. An oversized body is not read further:
 * the request is paused and the answer closes the connection.
 */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) return void chunks.push(chunk);
      req.off('data', onData);
      req.pause();
      resolve(undefined);
    };
    req.on('data', onData);
    req.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.once('error', reject);
  });
}

/** Harbor's error body: `{"errors":[{"code","message"}]}`. */
function sendError(
  res: ServerResponse,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { errors: [{ code, message }] }, headers);
}
