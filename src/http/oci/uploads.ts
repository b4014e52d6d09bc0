import { RegistryError } from '../../core/errors.js';
import { requireDigest } from '../../core/oci/digest.js';
import { sendEmpty, uploadLocation, type V2Context } from './context.js';
import { readContentRange, uploadRangeHeader } from './ranges.js';

/**
 * POST `/v2/<name>/blobs/uploads/`: a cross-repository mount (`mount`, optional `from`), a monolithic
 * upload (`digest` with the body), or a new session for PATCH/PUT.
 */
export async function startUpload(ctx: V2Context, name: string): Promise<void> {
  const mount = ctx.url.searchParams.get('mount');
  const digestParam = ctx.url.searchParams.get('digest');
  const blobs = ctx.registry.blobs;
  if (mount !== null) {
    const from = ctx.url.searchParams.get('from') ?? undefined;
    const outcome = await blobs.mountOrStart(name, requireDigest(mount), from, ctx.access);
    if (outcome.mounted) {
      return sendEmpty(ctx.res, 201, {
        Location: `/v2/${name}/blobs/${outcome.digest}`,
        'Docker-Content-Digest': outcome.digest,
      });
    }
    return sendSession(ctx, name, outcome.uploadId, 0);
  }
  if (digestParam !== null) {
    const digest = requireDigest(digestParam);
    const id = await blobs.startUpload(name);
    await appendBody(ctx, name, id, undefined);
    const blob = await blobs.finish(name, id, digest);
    return sendEmpty(ctx.res, 201, {
      Location: `/v2/${name}/blobs/${blob.digest}`,
      'Docker-Content-Digest': blob.digest,
    });
  }
  sendSession(ctx, name, await blobs.startUpload(name), 0);
}

/** PATCH: one chunk with Content-Range, or the whole blob streamed without it. */
export async function patchUpload(ctx: V2Context, name: string, id: string): Promise<void> {
  const offset = await appendBody(ctx, name, id, ctx.req.headers['content-range']);
  sendSession(ctx, name, id, offset, 202);
}

/** PUT `?digest=`: an optional last chunk, then the digest check that makes the blob visible. */
export async function finishUpload(ctx: V2Context, name: string, id: string): Promise<void> {
  const digestParam = ctx.url.searchParams.get('digest');
  if (digestParam === null) throw new RegistryError('DIGEST_INVALID', 'digest query parameter is required');
  const digest = requireDigest(digestParam);
  if (hasBody(ctx)) await appendBody(ctx, name, id, ctx.req.headers['content-range']);
  const blob = await ctx.registry.blobs.finish(name, id, digest);
  sendEmpty(ctx.res, 201, {
    Location: `/v2/${name}/blobs/${blob.digest}`,
    'Docker-Content-Digest': blob.digest,
  });
}

/** GET: the upload's progress. */
export async function uploadStatus(ctx: V2Context, name: string, id: string): Promise<void> {
  const offset = await ctx.registry.blobs.uploadOffset(name, id);
  sendSession(ctx, name, id, offset, 204);
}

/** DELETE: cancels the upload and drops its bytes. */
export async function cancelUpload(ctx: V2Context, name: string, id: string): Promise<void> {
  await ctx.registry.blobs.cancel(name, id);
  sendEmpty(ctx.res, 204);
}

function sendSession(ctx: V2Context, name: string, id: string, offset: number, status = 202): void {
  sendEmpty(ctx.res, status, {
    Location: uploadLocation(name, id),
    Range: uploadRangeHeader(offset),
    'Docker-Upload-UUID': id,
  });
}

function hasBody(ctx: V2Context): boolean {
  const length = ctx.req.headers['content-length'];
  return length !== undefined ? Number(length) > 0 : ctx.req.headers['transfer-encoding'] !== undefined;
}

async function appendBody(
  ctx: V2Context,
  name: string,
  id: string,
  contentRange: string | undefined,
): Promise<number> {
  const range = readContentRange(contentRange);
  if (range === null) throw new RegistryError('RANGE_INVALID', 'malformed Content-Range');
  const length = ctx.req.headers['content-length'];
  if (range !== undefined && length !== undefined && Number(length) !== range.end - range.start + 1) {
    throw new RegistryError('RANGE_INVALID', 'Content-Range does not match Content-Length');
  }
  const offset = await ctx.registry.blobs.append(name, id, ctx.req, range?.start);
  ctx.logFields.bytesIn = offset;
  return offset;
}
