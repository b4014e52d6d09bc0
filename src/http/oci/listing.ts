import { mediaTypes } from '../../core/oci/media-types.js';
import { parseDigest } from '../../core/oci/digest.js';
import { RegistryError } from '../../core/errors.js';
import { nextLink, sendJson, type V2Context } from './context.js';

function pageRequest(ctx: V2Context): { n?: string; last?: string } {
  const n = ctx.url.searchParams.get('n');
  const last = ctx.url.searchParams.get('last');
  return { ...(n !== null && { n }), ...(last !== null && { last }) };
}

/** GET `/v2/<name>/tags/list[?n=&last=]`. */
export async function listTags(ctx: V2Context, name: string): Promise<void> {
  const request = pageRequest(ctx);
  const page = await ctx.registry.listing.tags(name, request);
  const headers: Record<string, string> = {};
  if (page.next !== undefined) headers.Link = nextLink(`/v2/${name}/tags/list`, request.n, page.next);
  sendJson(ctx.res, 200, { name, tags: page.items }, headers);
}

/** GET `/v2/_catalog[?n=&last=]`. */
export async function listCatalog(ctx: V2Context): Promise<void> {
  const request = pageRequest(ctx);
  const page = await ctx.registry.listing.catalog(request);
  const headers: Record<string, string> = {};
  if (page.next !== undefined) headers.Link = nextLink('/v2/_catalog', request.n, page.next);
  sendJson(ctx.res, 200, { repositories: page.items }, headers);
}

/** GET `/v2/<name>/referrers/<digest>[?artifactType=]`: an image index of the manifests whose subject it is. */
export async function listReferrers(ctx: V2Context, name: string, digestParam: string): Promise<void> {
  const parsed = parseDigest(digestParam);
  if (!parsed.ok) throw new RegistryError('DIGEST_INVALID', parsed.reason);
  const artifactType = ctx.url.searchParams.get('artifactType') ?? undefined;
  const request = pageRequest(ctx);
  const page = await ctx.registry.manifests.referrers(name, parsed.digest, artifactType, request);
  const index = {
    schemaVersion: 2,
    mediaType: mediaTypes.ociIndex,
    manifests: page.items.map((r) => ({
      mediaType: r.mediaType,
      digest: r.digest,
      size: r.size,
      ...(r.artifactType !== undefined && { artifactType: r.artifactType }),
      ...(r.annotations !== undefined && { annotations: r.annotations }),
    })),
  };
  const body = Buffer.from(JSON.stringify(index));
  const headers: Record<string, string> = {
    'Content-Type': mediaTypes.ociIndex,
    'Content-Length': String(body.length),
  };
  if (artifactType !== undefined) headers['OCI-Filters-Applied'] = 'artifactType';
  if (page.next !== undefined) {
    const path = `/v2/${name}/referrers/${parsed.digest}`;
    headers.Link = nextLink(
      artifactType === undefined ? path : `${path}?artifactType=${encodeURIComponent(artifactType)}`,
      request.n,
      page.next,
    );
  }
  ctx.res.writeHead(200, headers);
  ctx.res.end(body);
}
