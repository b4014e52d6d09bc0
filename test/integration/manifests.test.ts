// Manifest push and pull: exact bytes and media types, HEAD, ETag, subjects on indexes, size limits
// and concurrent pushes of one tag. Validation lives in manifest-validation.test.ts.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  assertOciError,
  call,
  checkErrorBody,
  descriptorOf,
  emptyJson,
  imageIndex,
  imageManifest,
  listTags,
  ociEmptyType,
  ociIndexType,
  ociManifestType,
  pushBlob,
  pushImage,
  pushManifest,
  putManifest,
  rawRequest,
  sha256,
  uniqueName,
  type PushedImage,
} from '../support/oci-client.js';

const dockerManifestType = 'application/vnd.docker.distribution.manifest.v2+json';
const maxManifestBytes = 4 * 1024 * 1024;

describe('manifests', () => {
  let berth: TestBerth;
  const name = uniqueName('manifests');
  let image: PushedImage;

  before(async () => {
    berth = await startTestBerth();
    image = await pushImage(berth.base, name, 'v1');
    await pushBlob(berth.base, name, emptyJson);
  });
  after(() => berth.dispose());

  /** A manifest over the image's blobs, made unique (and as large as needed) with an annotation. */
  const variant = (label: string, extra: Parameters<typeof imageManifest>[0] = {}): Buffer => {
    const parsed = JSON.parse(image.manifest.toString()) as { config: never; layers: never[] };
    return imageManifest({ config: parsed.config, layers: parsed.layers, annotations: { label }, ...extra });
  };
  const expectNoManifest = async (reference: string) => {
    const res = await call(berth.base, `/v2/${name}/manifests/${reference}`);
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  };

  describe('push and pull', () => {
    it('PUT by tag is 201 with Location and Docker-Content-Digest; GET returns the exact bytes', async () => {
      const bytes = Buffer.from(
        `{  "schemaVersion":2,\n"mediaType": "${ociManifestType}", "config": ${JSON.stringify(descriptorOf(ociEmptyType, emptyJson))},\n\t"layers": [] }\n`,
      );
      const { res, digest } = await putManifest(berth.base, name, 'spaced', bytes);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('location'), `/v2/${name}/manifests/${digest}`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      for (const reference of ['spaced', digest]) {
        const get = await call(berth.base, `/v2/${name}/manifests/${reference}`, {
          headers: { Accept: ociManifestType },
        });
        assert.equal(get.status, 200);
        assert.equal(get.headers.get('content-type'), ociManifestType);
        assert.equal(get.headers.get('docker-content-digest'), digest);
        assert.equal(get.headers.get('content-length'), String(bytes.length));
        assert.deepEqual(Buffer.from(await get.arrayBuffer()), bytes);
      }
    });

    it('HEAD has the headers of GET and an empty body', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/v1`, { method: 'HEAD' });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-type'), ociManifestType);
      assert.equal(res.headers.get('content-length'), String(image.manifest.length));
      assert.equal(res.headers.get('docker-content-digest'), image.digest);
      assert.equal((await res.arrayBuffer()).byteLength, 0);
    });

    it('a Docker schema 2 manifest is served with its own type, whatever Accept says', async () => {
      const bytes = variant('docker', { mediaType: dockerManifestType });
      const digest = await pushManifest(berth.base, name, 'docker', bytes, dockerManifestType);
      const res = await call(berth.base, `/v2/${name}/manifests/docker`, {
        headers: { Accept: `${ociManifestType}, ${dockerManifestType}` },
      });
      assert.equal(res.headers.get('content-type'), dockerManifestType);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    });

    it('a manifest without mediaType takes its type from Content-Type (as Helm pushes)', async () => {
      const bytes = variant('helm', { mediaType: null });
      await pushManifest(berth.base, name, 'helm', bytes, `${ociManifestType}; charset=utf-8`);
      const res = await call(berth.base, `/v2/${name}/manifests/helm`, { method: 'HEAD' });
      assert.equal(res.headers.get('content-type'), ociManifestType);
    });

    it('a manifest pushed by a sha512 digest is stored and served under that digest', async () => {
      const bytes = variant('sha512');
      const digest = `sha512:${createHash('sha512').update(bytes).digest('hex')}`;
      const { res } = await putManifest(berth.base, name, digest, bytes);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      const get = await call(berth.base, `/v2/${name}/manifests/${digest}`);
      assert.equal(get.status, 200);
      assert.equal(get.headers.get('docker-content-digest'), digest);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), bytes);
    });

    it('pushing another manifest under a tag moves the tag', async () => {
      const first = await pushManifest(berth.base, name, 'moving', variant('first'));
      const second = await pushManifest(berth.base, name, 'moving', variant('second'));
      const res = await call(berth.base, `/v2/${name}/manifests/moving`, { method: 'HEAD' });
      assert.equal(res.headers.get('docker-content-digest'), second);
      assert.equal(
        (await call(berth.base, `/v2/${name}/manifests/${first}`, { method: 'HEAD' })).status,
        200,
      );
    });

    it('extra tags in ?tag= are applied and echoed in OCI-Tag', async () => {
      const bytes = variant('multi');
      const res = await call(berth.base, `/v2/${name}/manifests/${sha256(bytes)}?tag=multi-a&tag=multi-b`, {
        method: 'PUT',
        headers: { 'Content-Type': ociManifestType },
        body: bytes,
      });
      assert.equal(res.status, 201);
      assert.deepEqual(res.headers.get('oci-tag')?.split(/,\s*/).sort(), ['multi-a', 'multi-b']);
      for (const tag of ['multi-a', 'multi-b']) {
        assert.equal(
          (await call(berth.base, `/v2/${name}/manifests/${tag}`, { method: 'HEAD' })).headers.get(
            'docker-content-digest',
          ),
          sha256(bytes),
        );
      }
    });

    it('an empty index, and an index with a subject (answering OCI-Subject), are accepted', async () => {
      const empty = imageIndex([]);
      await pushManifest(berth.base, name, 'empty-index', empty, ociIndexType);
      const withSubject = imageIndex([image.descriptor], {
        subject: image.descriptor,
        artifactType: 'application/vnd.example.index',
      });
      const { res } = await putManifest(berth.base, name, sha256(withSubject), withSubject, ociIndexType);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('oci-subject'), image.digest);
    });

    it('a manifest is not visible from another repository; an unknown repository is NAME_UNKNOWN', async () => {
      await assertOciError(
        await call(berth.base, `/v2/${uniqueName('nothing')}/manifests/${image.digest}`),
        404,
        'NAME_UNKNOWN',
      );
      const other = uniqueName('other');
      await pushBlob(berth.base, other, emptyJson);
      await assertOciError(
        await call(berth.base, `/v2/${other}/manifests/${image.digest}`),
        404,
        'MANIFEST_UNKNOWN',
      );
      await assertOciError(await call(berth.base, `/v2/${other}/manifests/v1`), 404, 'MANIFEST_UNKNOWN');
    });
  });

  describe('ETag and If-None-Match', () => {
    it('GET and HEAD with a matching If-None-Match are 304 with no body, by tag and by digest', async () => {
      for (const reference of ['v1', image.digest]) {
        for (const method of ['GET', 'HEAD']) {
          const res = await call(berth.base, `/v2/${name}/manifests/${reference}`, {
            method,
            headers: { 'If-None-Match': `"${image.digest}"` },
          });
          assert.equal(res.status, 304, `${method} ${reference}`);
          assert.equal(res.headers.get('etag'), `"${image.digest}"`);
          assert.equal((await res.arrayBuffer()).byteLength, 0);
        }
      }
    });

    it('GET with a stale If-None-Match is 200 with the ETag of the current manifest', async () => {
      const res = await call(berth.base, `/v2/${name}/manifests/v1`, {
        headers: { 'If-None-Match': `"${sha256('stale')}"` },
      });
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('etag'), `"${image.digest}"`);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), image.manifest);
    });
  });

  describe('size limits', () => {
    const sized = (size: number): Buffer => {
      const base = variant('');
      const pad = size - base.length;
      const bytes = variant('x'.repeat(pad));
      assert.equal(bytes.length, size);
      return bytes;
    };

    it('a ~3.9 MB manifest is accepted and served byte for byte', async () => {
      const bytes = sized(3_900_000);
      const digest = await pushManifest(berth.base, name, 'large', bytes);
      const res = await call(berth.base, `/v2/${name}/manifests/large`);
      assert.equal(res.headers.get('docker-content-digest'), digest);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    });

    it('a manifest of exactly 4 MiB is accepted', async () => {
      await pushManifest(berth.base, name, 'limit', sized(maxManifestBytes));
    });

    it('a manifest over 4 MiB is 413 with a spec error body, and nothing is stored', async () => {
      const bytes = sized(maxManifestBytes + 1);
      const res = await rawRequest(
        berth.base,
        'PUT',
        `/v2/${name}/manifests/too-large`,
        { 'Content-Type': ociManifestType },
        bytes,
      );
      assert.equal(res.status, 413);
      checkErrorBody(
        res.headers['content-type'],
        res.body.toString(),
        undefined,
        res.headers['docker-distribution-api-version'] as string,
      );
      await expectNoManifest('too-large');
    });

    it('a chunked manifest body over 4 MiB (no Content-Length) is 413 too', async () => {
      const bytes = sized(maxManifestBytes + 1000);
      const url = new URL(berth.base);
      const res = await new Promise<{ status: number; type?: string; api?: string; body: string }>(
        (resolve, reject) => {
          const req = httpRequest(
            {
              host: url.hostname,
              port: url.port,
              method: 'PUT',
              path: `/v2/${name}/manifests/too-large-chunked`,
              headers: { 'Content-Type': ociManifestType },
            },
            (response) => {
              let body = '';
              response.setEncoding('utf8');
              response.on('data', (chunk: string) => (body += chunk));
              response.on('end', () =>
                resolve({
                  status: response.statusCode ?? 0,
                  type: response.headers['content-type'],
                  api: response.headers['docker-distribution-api-version'] as string,
                  body,
                }),
              );
            },
          );
          req.on('error', reject);
          for (let offset = 0; offset < bytes.length; offset += 256 * 1024)
            req.write(bytes.subarray(offset, offset + 256 * 1024));
          req.end();
        },
      );
      assert.equal(res.status, 413);
      assert.equal(res.type, 'application/json');
      checkErrorBody(res.type, res.body, undefined, res.api);
      await expectNoManifest('too-large-chunked');
    });
  });

  describe('concurrency', () => {
    it('concurrent pushes of different manifests to one tag all succeed and the tag ends consistent', async () => {
      const candidates = Array.from({ length: 8 }, (_, i) => variant(`race-${i}`));
      const results = await Promise.all(
        candidates.map((bytes) => putManifest(berth.base, name, 'race', bytes)),
      );
      for (const { res, body } of results) assert.equal(res.status, 201, body);
      const res = await call(berth.base, `/v2/${name}/manifests/race`);
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(res.headers.get('docker-content-digest'), sha256(body));
      assert.ok(
        candidates.some((c) => c.equals(body)),
        'the tag points at one of the pushed manifests',
      );
      for (const bytes of candidates)
        assert.equal(
          (await call(berth.base, `/v2/${name}/manifests/${sha256(bytes)}`, { method: 'HEAD' })).status,
          200,
        );
      const { tags } = await listTags(berth.base, name);
      assert.equal(tags.filter((t) => t === 'race').length, 1);
    });

    it('concurrent pushes of one manifest under many tags all land', async () => {
      const bytes = variant('same');
      const tags = Array.from({ length: 8 }, (_, i) => `same-${i}`);
      const digests = await Promise.all(tags.map((tag) => pushManifest(berth.base, name, tag, bytes)));
      assert.deepEqual(new Set(digests), new Set([sha256(bytes)]));
      const listed = (await listTags(berth.base, name)).tags.filter((t) => t.startsWith('same-'));
      assert.deepEqual(listed, tags);
    });
  });
});
