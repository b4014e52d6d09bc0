import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { RegistryError } from '../../src/core/errors.js';
import { parseManifest } from '../../src/core/oci/manifest.js';

const d = (n: number) => `sha256:${n.toString(16).padStart(64, '0')}`;
const oci = 'application/vnd.oci.image.manifest.v1+json';
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const image = (extra: Record<string, unknown> = {}) => ({
  schemaVersion: 2,
  mediaType: oci,
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: d(1), size: 10 },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: d(2), size: 20 }],
  ...extra,
});

function rejects(bytes: Buffer, contentType: string | undefined, pattern: RegExp): void {
  assert.throws(
    () => parseManifest(bytes, contentType),
    (e: unknown) => e instanceof RegistryError && e.code === 'MANIFEST_INVALID' && pattern.test(e.message),
  );
}

describe('manifest parsing', () => {
  it('reads an image manifest: blobs, artifact type from the config, subject', () => {
    const parsed = parseManifest(json(image({ subject: { mediaType: oci, digest: d(9), size: 5 } })), oci);
    assert.equal(parsed.kind, 'image');
    assert.equal(parsed.mediaType, oci);
    assert.deepEqual(
      parsed.blobs.map((b) => b.digest),
      [d(1), d(2)],
    );
    assert.equal(parsed.artifactType, 'application/vnd.oci.image.config.v1+json');
    assert.equal(parsed.subject?.digest, d(9));
  });

  it('prefers an explicit artifactType', () => {
    assert.equal(
      parseManifest(json(image({ artifactType: 'application/x-sbom' })), oci).artifactType,
      'application/x-sbom',
    );
  });

  it('takes the type from Content-Type when the body has none (Helm)', () => {
    const body = image();
    delete (body as Record<string, unknown>).mediaType;
    assert.equal(parseManifest(json(body), `${oci}; charset=utf-8`).mediaType, oci);
  });

  it('reads indexes and Docker manifest lists, including empty ones', () => {
    const list = 'application/vnd.docker.distribution.manifest.list.v2+json';
    const parsed = parseManifest(
      json({
        schemaVersion: 2,
        mediaType: list,
        manifests: [
          { mediaType: oci, digest: d(3), size: 1, platform: { os: 'linux', architecture: 'arm64' } },
        ],
      }),
      list,
    );
    assert.equal(parsed.kind, 'index');
    assert.deepEqual(
      parsed.manifests.map((m) => m.digest),
      [d(3)],
    );
    assert.equal(
      parseManifest(
        json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: [] }),
        undefined,
      ).manifests.length,
      0,
    );
  });

  it('leaves foreign layers with urls out of the blobs to check', () => {
    const parsed = parseManifest(
      json(
        image({
          layers: [
            {
              mediaType: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
              digest: d(4),
              size: 1,
              urls: ['https://example.invalid/x'],
            },
          ],
        }),
      ),
      oci,
    );
    assert.deepEqual(
      parsed.blobs.map((b) => b.digest),
      [d(1)],
    );
  });

  it('checks embedded data against the digest', () => {
    const data = Buffer.from('{}');
    const digest = `sha256:${createHash('sha256').update(data).digest('hex')}`;
    const good = image({
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest,
        size: 2,
        data: data.toString('base64'),
      },
    });
    assert.equal(parseManifest(json(good), oci).blobs[0]?.digest, digest);
    const bad = image({
      config: {
        mediaType: 'application/vnd.oci.empty.v1+json',
        digest,
        size: 2,
        data: Buffer.from('[]').toString('base64'),
      },
    });
    rejects(json(bad), oci, /data does not match/);
  });

  it('rejects what is not a valid manifest, saying why', () => {
    rejects(Buffer.from('{not json'), oci, /not valid JSON/);
    rejects(json([1, 2]), oci, /JSON object/);
    rejects(json(image({ schemaVersion: 1 })), oci, /schema 1/);
    rejects(json(image({ schemaVersion: 3 })), oci, /schemaVersion must be 2/);
    rejects(json(image({ layers: 'x' })), oci, /layers must be a list/);
    rejects(
      json(image({ config: { mediaType: 'x', digest: 'sha256:bad', size: 1 } })),
      oci,
      /config\.digest/,
    );
    rejects(json(image({ config: { mediaType: 'x', digest: d(1), size: -1 } })), oci, /config\.size/);
    rejects(json(image({ annotations: { a: 1 } })), oci, /annotations/);
    rejects(
      json(image({ mediaType: 'application/vnd.oci.image.index.v1+json' })),
      oci,
      /does not match Content-Type/,
    );
    rejects(
      json({ schemaVersion: 2, mediaType: 'application/x-unknown' }),
      undefined,
      /unsupported manifest media type/,
    );
  });
});
