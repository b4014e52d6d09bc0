import { bufferBlob, type BlobContent } from './blob-data.js';

export const ociManifestType = 'application/vnd.oci.image.manifest.v1+json';
const ociConfigType = 'application/vnd.oci.image.config.v1+json';
const ociLayerType = 'application/vnd.oci.image.layer.v1.tar+gzip';

/** What pullers send: Distribution 2.8 answers an OCI manifest only to a client that accepts it. */
export const manifestAccept = [
  ociManifestType,
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** A small image config, unique per `id` (as every build's config is). */
export function imageConfig(id: string): BlobContent {
  const config = {
    architecture: 'amd64',
    os: 'linux',
    created: '2024-01-01T00:00:00Z',
    config: {
      Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
      Cmd: ['/bin/sh'],
      Labels: { build: id },
    },
    rootfs: { type: 'layers', diff_ids: [] as string[] },
    history: [{ created: '2024-01-01T00:00:00Z', created_by: `bench ${id}` }],
  };
  return bufferBlob(Buffer.from(JSON.stringify(config)));
}

/** An OCI image manifest; `annotations` make otherwise equal manifests distinct. */
export function imageManifest(
  config: BlobContent,
  layers: BlobContent[],
  annotations?: Record<string, string>,
): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: ociManifestType,
    config: { mediaType: ociConfigType, digest: config.digest, size: config.size },
    layers: layers.map((layer) => ({ mediaType: ociLayerType, digest: layer.digest, size: layer.size })),
    ...(annotations !== undefined && { annotations }),
  };
  return Buffer.from(JSON.stringify(manifest));
}
