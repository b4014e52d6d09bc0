/** Media types Berth gives meaning to. Any other type is stored and served unchanged. */
export const mediaTypes = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerSchema1: 'application/vnd.docker.distribution.manifest.v1+json',
  dockerSchema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  ociEmpty: 'application/vnd.oci.empty.v1+json',
  ociImageConfig: 'application/vnd.oci.image.config.v1+json',
  dockerImageConfig: 'application/vnd.docker.container.image.v1+json',
  helmConfig: 'application/vnd.cncf.helm.config.v1+json',
  helmChart: 'application/vnd.cncf.helm.chart.content.v1.tar+gzip',
  helmProvenance: 'application/vnd.cncf.helm.chart.provenance.v1.prov',
  buildkitCacheConfig: 'application/vnd.buildkit.cacheconfig.v0',
} as const;

/** Media types whose body is an image manifest (config + layers). */
export const imageManifestTypes: ReadonlySet<string> = new Set([
  mediaTypes.ociManifest,
  mediaTypes.dockerManifest,
]);

/** Media types whose body is an index of other manifests. */
export const indexTypes: ReadonlySet<string> = new Set([mediaTypes.ociIndex, mediaTypes.dockerManifestList]);

/** Every manifest type that PUT accepts; the `Accept` negotiation of GET also lists these. */
export const manifestTypes: ReadonlySet<string> = new Set([...imageManifestTypes, ...indexTypes]);

/** Strips parameters (`; charset=...`) and case from a Content-Type value. */
export function bareMediaType(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const bare = value.split(';', 1)[0]!.trim().toLowerCase();
  return bare === '' ? undefined : bare;
}
