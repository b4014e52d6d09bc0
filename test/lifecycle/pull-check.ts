import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';

const accept = ['application/vnd.oci.image.manifest.v1+json', 'application/vnd.oci.image.index.v1+json'].join(
  ', ',
);

/** Pulls `name:reference` completely (index children too) and checks every digest; returns blobs read. */
export async function pullAndVerify(base: string, name: string, reference: string): Promise<number> {
  const res = await fetch(`${base}/v2/${name}/manifests/${reference}`, { headers: { accept } });
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, `GET ${name}:${reference}`);
  const digest = `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
  if (reference.startsWith('sha256:')) assert.equal(digest, reference);
  const manifest = JSON.parse(bytes.toString()) as {
    config?: { digest: string };
    layers?: { digest: string }[];
    manifests?: { digest: string }[];
  };
  let blobs = 0;
  for (const child of manifest.manifests ?? []) blobs += await pullAndVerify(base, name, child.digest);
  for (const blob of [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? [])]) {
    const b = await fetch(`${base}/v2/${name}/blobs/${blob.digest}`);
    const content = Buffer.from(await b.arrayBuffer());
    assert.equal(b.status, 200, `GET blob ${blob.digest} of ${name}:${reference}`);
    assert.equal(`sha256:${createHash('sha256').update(content).digest('hex')}`, blob.digest, 'blob content');
    blobs += 1;
  }
  return blobs;
}
