import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { S3Layout } from './layout.js';
import type { S3Objects } from './objects.js';

const objectRef = z.object({ key: z.string(), size: z.number().int().nonnegative() });
const part = z.object({
  number: z.number().int().min(1),
  etag: z.string(),
  size: z.number().int().nonnegative(),
});

/**
 * What one upload has stored, kept as `uploads/<id>/state.json` so that any node can continue it. The
 * upload's bytes, in order, are:
 *
 *   multipart ? (the parts of the multipart upload) : (base)    then    tail
 *
 * - `base` is a plain, readable object with the first bytes (at least 5 MiB). It exists after another
 *   node had to re-hash the upload (see `S3Uploads.hashOf`): parts of a multipart upload cannot be read
 *   back, so the multipart upload was completed into `base`. A new multipart upload then starts with
 *   `base` copied server-side as its first parts, and `base` stays until commit so it can be read again.
 * - `multipart` holds parts of at least the configured part size, with their ETags.
 * - `tail` holds the bytes after them that do not yet fill a part (a plain object, so any node can read
 *   it and continue filling the buffer).
 *
 * `token` changes on every write: a running hash kept in memory is used only while the state it was
 * computed for is still the current one.
 */
const uploadState = z.object({
  version: z.literal(1),
  token: z.string(),
  offset: z.number().int().nonnegative(),
  base: objectRef.optional(),
  multipart: z.object({ uploadId: z.string(), key: z.string(), parts: z.array(part) }).optional(),
  tail: objectRef.optional(),
});

export type UploadState = z.infer<typeof uploadState>;

export function newState(fields: Omit<UploadState, 'version' | 'token' | 'offset'>): UploadState {
  const multipartBytes = fields.multipart?.parts.reduce((sum, p) => sum + p.size, 0);
  const offset = (multipartBytes ?? fields.base?.size ?? 0) + (fields.tail?.size ?? 0);
  return { version: 1, token: randomUUID(), offset, ...fields };
}

export async function readState(
  objects: S3Objects,
  layout: S3Layout,
  id: string,
): Promise<UploadState | undefined> {
  if (!layout.isUploadId(id)) return undefined;
  const bytes = await objects.readBuffer(layout.stateKey(id));
  if (bytes === undefined) return undefined;
  const parsed = uploadState.safeParse(JSON.parse(bytes.toString('utf8')));
  if (!parsed.success) throw new Error(`upload ${id}: unreadable state: ${parsed.error.message}`);
  return parsed.data;
}

export async function writeState(
  objects: S3Objects,
  layout: S3Layout,
  id: string,
  state: UploadState,
): Promise<void> {
  await objects.put(layout.stateKey(id), Buffer.from(JSON.stringify(state)), 'application/json');
}

/** Every temporary object the state points at. */
export function stateObjects(state: UploadState): string[] {
  return [state.base?.key, state.tail?.key].filter((key) => key !== undefined);
}
