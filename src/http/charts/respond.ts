import type { ServerResponse } from 'node:http';
import { pipeline } from 'node:stream/promises';
import type { RegistryErrorCode } from '../../core/errors.js';
import type { BlobReader } from '../../core/ports.js';
import { ociErrorStatus } from '../oci/errors.js';

/** JSON as ChartMuseum (gin) sends it. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
  head = false,
): void {
  const bytes = Buffer.from(JSON.stringify(body));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, {
    ...headers,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(bytes.length),
  });
  res.end(head ? undefined : bytes);
}

/** ChartMuseum's error body: `{"error": "..."}`. */
export function sendError(
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
  head = false,
): void {
  sendJson(res, status, { error: message }, headers, head);
}

/** Statuses of domain errors on the chart routes (ChartMuseum's: 400, 404, 409; 401/403 for access). */
export function chartErrorStatus(code: RegistryErrorCode): number {
  switch (code) {
    case 'BAD_REQUEST':
    case 'MANIFEST_INVALID':
    case 'NAME_INVALID':
    case 'TAG_INVALID':
      return 400;
    case 'CONFLICT':
      return 409;
    case 'NOT_FOUND':
    case 'NAME_UNKNOWN':
    case 'MANIFEST_UNKNOWN':
    case 'BLOB_UNKNOWN':
      return 404;
    default:
      return ociErrorStatus(code);
  }
}

/** Streams a blob as the response body (or only its headers for HEAD). */
export async function sendBlob(
  res: ServerResponse,
  reader: BlobReader,
  headers: Record<string, string>,
  head: boolean,
): Promise<number> {
  res.writeHead(200, { ...headers, 'Content-Length': String(reader.size) });
  if (head) {
    reader.stream.destroy();
    res.end();
    return 0;
  }
  if (reader.writeTo !== undefined) await reader.writeTo(res);
  else await pipeline(reader.stream, res);
  return reader.size;
}
