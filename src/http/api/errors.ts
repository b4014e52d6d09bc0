import type { ServerResponse } from 'node:http';
import { isRegistryError, type RegistryErrorCode } from '../../core/errors.js';

/** The error codes Harbor's API answers with (src/lib/errors/const.go), and their statuses. */
export const harborStatus = {
  BAD_REQUEST: 400,
  UNAUTHORIZED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  METHOD_NOT_ALLOWED: 405,
  CONFLICT: 409,
  PRECONDITION: 412,
  UNSUPPORTED_MEDIA_TYPE: 415,
  TOO_MANY_REQUEST: 429,
  UNKNOWN: 500,
} as const;

export type HarborCode = keyof typeof harborStatus;

/** A failure raised by the API edge itself (routing, authentication, request validation). */
export class ApiError extends Error {
  constructor(
    readonly code: HarborCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * The one mapping from domain error codes to Harbor's. Exhaustive, so a new domain code does not compile
 * until it is given a Harbor code here.
 */
const fromDomain: Record<RegistryErrorCode, HarborCode> = {
  BAD_REQUEST: 'BAD_REQUEST',
  NAME_INVALID: 'BAD_REQUEST',
  TAG_INVALID: 'BAD_REQUEST',
  DIGEST_INVALID: 'BAD_REQUEST',
  MANIFEST_INVALID: 'BAD_REQUEST',
  MANIFEST_BLOB_UNKNOWN: 'BAD_REQUEST',
  BLOB_UPLOAD_INVALID: 'BAD_REQUEST',
  PAGINATION_NUMBER_INVALID: 'BAD_REQUEST',
  SIZE_INVALID: 'BAD_REQUEST',
  RANGE_INVALID: 'BAD_REQUEST',
  MANIFEST_TOO_LARGE: 'BAD_REQUEST',
  UNSUPPORTED: 'BAD_REQUEST',
  UNAUTHORIZED: 'UNAUTHORIZED',
  DENIED: 'FORBIDDEN',
  NOT_FOUND: 'NOT_FOUND',
  NAME_UNKNOWN: 'NOT_FOUND',
  MANIFEST_UNKNOWN: 'NOT_FOUND',
  BLOB_UNKNOWN: 'NOT_FOUND',
  BLOB_UPLOAD_UNKNOWN: 'NOT_FOUND',
  CONFLICT: 'CONFLICT',
  PRECONDITION_FAILED: 'PRECONDITION',
  TOOMANYREQUESTS: 'TOO_MANY_REQUEST',
  UNAVAILABLE: 'UNKNOWN',
  UNKNOWN: 'UNKNOWN',
};

export interface HarborError {
  code: HarborCode;
  status: number;
  message: string;
  headers: Record<string, string>;
}

/** Any thrown value as Harbor's error; unexpected ones become 500 without details (Harbor does the same). */
export function harborErrorOf(error: unknown): HarborError {
  if (error instanceof ApiError) {
    return {
      code: error.code,
      status: harborStatus[error.code],
      message: error.message,
      headers: error.headers,
    };
  }
  if (isRegistryError(error)) {
    const code = fromDomain[error.code];
    if (code !== 'UNKNOWN') return { code, status: harborStatus[code], message: error.message, headers: {} };
  }
  return { code: 'UNKNOWN', status: 500, message: 'internal server error', headers: {} };
}

/** Writes `{"errors":[{"code","message"}]}` (nothing for HEAD, whose answer has no body). */
export function sendHarborError(res: ServerResponse, error: HarborError, head = false): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = Buffer.from(JSON.stringify({ errors: [{ code: error.code, message: error.message }] }));
  res.writeHead(error.status, {
    ...error.headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(body.length),
  });
  res.end(head ? undefined : body);
}
