/**
 * The one table of error codes Berth's domain can raise. Codes are the OCI distribution-spec ones plus
 * Berth's own; the HTTP status for each lives at the HTTP edge (src/http/oci/errors.ts), never here.
 */
export const registryErrorCodes = [
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'TAG_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  'RANGE_INVALID',
  'PAGINATION_NUMBER_INVALID',
  'UNAVAILABLE',
  'UNKNOWN',
  // Berth's own: a manifest larger than the configured cap (413 at the edge).
  'MANIFEST_TOO_LARGE',
  // Berth's own, for the management API (Harbor's error codes at the edge).
  'BAD_REQUEST',
  'NOT_FOUND',
  'CONFLICT',
  'PRECONDITION_FAILED',
] as const;

export type RegistryErrorCode = (typeof registryErrorCodes)[number];

/** A failure the domain expects and that a client can act on. `detail` is any JSON value. */
export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly detail: unknown;

  constructor(code: RegistryErrorCode, message: string, detail?: unknown) {
    super(message);
    this.name = 'RegistryError';
    this.code = code;
    this.detail = detail;
  }
}

export function isRegistryError(value: unknown): value is RegistryError {
  return value instanceof RegistryError;
}
