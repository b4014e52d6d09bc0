import { pipeline } from 'node:stream/promises';
import { requireDigest } from '../../core/oci/digest.js';
import { sendEmpty, sendNotModified, type V2Context } from './context.js';
import { sendOciError } from './errors.js';
import { readRange } from './ranges.js';

/** GET and HEAD `/v2/<name>/blobs/<digest>`, with Range and If-None-Match. */
export async function getBlob(
  ctx: V2Context,
  name: string,
  digestParam: string,
  head: boolean,
): Promise<void> {
  const digest = requireDigest(digestParam);
  const blob = await ctx.registry.blobs.describe(name, digest);
  const etag = `"${digest}"`;
  const common = {
    'Docker-Content-Digest': digest,
    ETag: etag,
    'Accept-Ranges': 'bytes',
    'Cache-Control': 'max-age=31536000',
  };
  if (ctx.req.headers['if-none-match'] === etag) return sendNotModified(ctx.res, digest);
  const range = readRange(ctx.req.headers.range, blob.size);
  if (range.kind === 'unsatisfiable') {
    return sendOciError(
      ctx.res,
      'RANGE_INVALID',
      'requested range not satisfiable',
      { size: blob.size },
      {
        'Content-Range': `bytes */${blob.size}`,
      },
    );
  }
  if (head) {
    ctx.res.writeHead(200, {
      ...common,
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(blob.size),
    });
    ctx.res.end();
    return;
  }
  if (range.kind === 'whole') {
    const redirect = await ctx.registry.blobs.redirectUrl(digest);
    if (redirect !== undefined) return sendEmpty(ctx.res, 307, { ...common, Location: redirect });
  }
  const reader = await ctx.registry.blobs.open(blob, range.kind === 'partial' ? range.range : undefined);
  if (range.kind === 'partial') {
    const { start, end } = range.range;
    ctx.res.writeHead(206, {
      ...common,
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(end - start + 1),
      'Content-Range': `bytes ${start}-${end}/${blob.size}`,
    });
  } else {
    ctx.res.writeHead(200, {
      ...common,
      'Content-Type': 'application/octet-stream',
      'Content-Length': String(blob.size),
    });
  }
  ctx.logFields.bytesOut = range.kind === 'partial' ? range.range.end - range.range.start + 1 : blob.size;
  if (reader.writeTo !== undefined) await reader.writeTo(ctx.res);
  else await pipeline(reader.stream, ctx.res);
}

/** DELETE `/v2/<name>/blobs/<digest>`: unlinks the blob from the repository. */
export async function deleteBlob(ctx: V2Context, name: string, digestParam: string): Promise<void> {
  await ctx.registry.blobs.delete(name, requireDigest(digestParam));
  sendEmpty(ctx.res, 202);
}
