import { RegistryError } from '../../core/errors.js';
import { parseReference } from '../../core/oci/names.js';
import { sendEmpty, sendNotModified, type V2Context } from './context.js';

/** GET and HEAD `/v2/<name>/manifests/<reference>`: the exact bytes, with the type they were pushed as. */
export async function getManifest(
  ctx: V2Context,
  name: string,
  referenceParam: string,
  head: boolean,
): Promise<void> {
  const manifests = ctx.registry.manifests;
  const record = await manifests.resolve(name, parseReference(referenceParam));
  const etag = `"${record.digest}"`;
  const headers = {
    'Content-Type': record.mediaType,
    'Docker-Content-Digest': record.digest,
    ETag: etag,
    'Content-Length': String(record.size),
  };
  if (ctx.req.headers['if-none-match'] === etag) return sendNotModified(ctx.res, record.digest);
  if (head) {
    ctx.res.writeHead(200, headers);
    ctx.res.end();
    return;
  }
  const content = await manifests.content(record);
  ctx.res.writeHead(200, headers);
  ctx.res.end(content);
  ctx.registry.pulls.record(name, record.digest);
}

/** PUT `/v2/<name>/manifests/<reference>[?tag=...]`. */
export async function putManifest(
  ctx: V2Context,
  name: string,
  referenceParam: string,
  maxBytes: number,
): Promise<void> {
  const reference = parseReference(referenceParam);
  const content = await readBody(ctx, maxBytes);
  const extraTags = ctx.url.searchParams.getAll('tag');
  const result = await ctx.registry.manifests.put(
    name,
    reference,
    content,
    ctx.req.headers['content-type'],
    extraTags,
  );
  ctx.res.setHeader('Location', `/v2/${name}/manifests/${result.digest}`);
  ctx.res.setHeader('Docker-Content-Digest', result.digest);
  if (result.subject !== undefined) ctx.res.setHeader('OCI-Subject', result.subject);
  if (extraTags.length > 0) ctx.res.setHeader('OCI-Tag', result.tags);
  sendEmpty(ctx.res, 201);
}

/** DELETE by tag (untags) or by digest (removes the manifest and its tags). */
export async function deleteManifest(ctx: V2Context, name: string, referenceParam: string): Promise<void> {
  await ctx.registry.manifests.delete(name, parseReference(referenceParam));
  sendEmpty(ctx.res, 202);
}

/** Reads a manifest body, refusing (413) anything larger than the cap without buffering it. */
async function readBody(ctx: V2Context, maxBytes: number): Promise<Buffer> {
  const declared = ctx.req.headers['content-length'];
  const tooLarge = () =>
    new RegistryError('MANIFEST_TOO_LARGE', `manifest exceeds ${maxBytes} bytes`, { limit: maxBytes });
  if (declared !== undefined && Number(declared) > maxBytes) {
    ctx.res.setHeader('Connection', 'close');
    throw tooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) {
      ctx.res.setHeader('Connection', 'close');
      throw tooLarge();
    }
    chunks.push(chunk as Buffer);
  }
  ctx.logFields.bytesIn = size;
  return Buffer.concat(chunks, size);
}
