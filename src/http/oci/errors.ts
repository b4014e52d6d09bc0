import type { ServerResponse } from 'node:http';
import type { RegistryErrorCode } from '../../core/errors.js';

/** HTTP status for each domain error code: the one place where codes meet statuses on `/v2`. */
const statusOf: Record<RegistryErrorCode, number> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  TAG_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
  PAGINATION_NUMBER_INVALID: 400,
  UNAVAILABLE: 503,
  UNKNOWN: 500,
  MANIFEST_TOO_LARGE: 413,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  PRECONDITION_FAILED: 412,
};

/** Berth-only codes are sent as the nearest spec code, so clients see only codes they know. */
const wireCodeOf: Partial<Record<RegistryErrorCode, string>> = {
  MANIFEST_TOO_LARGE: 'SIZE_INVALID',
  BAD_REQUEST: 'UNSUPPORTED',
  NOT_FOUND: 'NAME_UNKNOWN',
  CONFLICT: 'DENIED',
  PRECONDITION_FAILED: 'DENIED',
};

export function ociErrorStatus(code: RegistryErrorCode): number {
  return statusOf[code];
}

/** Writes the distribution-spec error body: `{"errors":[{"code","message","detail"}]}`. */
export function sendOciError(
  res: ServerResponse,
  code: RegistryErrorCode,
  message: string,
  detail?: unknown,
  headers: Record<string, string> = {},
): void {
  const body = Buffer.from(
    JSON.stringify({
      errors: [{ code: wireCodeOf[code] ?? code, message, ...(detail !== undefined && { detail }) }],
    }),
  );
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(statusOf[code], {
    ...headers,
    'Content-Type': 'application/json',
    'Content-Length': String(body.length),
  });
  res.end(body);
}
