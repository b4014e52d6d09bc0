import type { IncomingMessage } from 'node:http';
import { ApiError } from './errors.js';

/** Largest request body the management API reads. */
export const maxBodyBytes = 1024 * 1024;

async function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > limit) throw new ApiError('BAD_REQUEST', `request body exceeds ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new ApiError('BAD_REQUEST', `request body exceeds ${limit} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

/** The JSON body, or undefined when there is none. */
export async function readJson(req: IncomingMessage, limit = maxBodyBytes): Promise<unknown> {
  const raw = await readRaw(req, limit);
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8')) as unknown;
  } catch {
    throw new ApiError('BAD_REQUEST', 'the request body is not valid JSON');
  }
}

/** A form body (`application/x-www-form-urlencoded`); a JSON object is accepted as well. */
export async function readForm(req: IncomingMessage, limit = 64 * 1024): Promise<Record<string, string>> {
  const raw = (await readRaw(req, limit)).toString('utf8');
  const type = req.headers['content-type'] ?? '';
  if (type.startsWith('application/json')) {
    try {
      const value: unknown = JSON.parse(raw);
      if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
        return Object.fromEntries(
          Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string'),
        );
      }
    } catch {
      // fall through to the error below
    }
    throw new ApiError('BAD_REQUEST', 'the request body is not a JSON object');
  }
  return Object.fromEntries(new URLSearchParams(raw));
}
