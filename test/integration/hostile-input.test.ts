// Hostile and malformed input: repository names that try to climb out of the data folder or dodge the
// grammar, garbage in every parameter and header, and the promises that hold whatever comes in: a spec
// error body, the Docker-Distribution-API-Version header on every response, and never a 500.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestBerth, type TestBerth } from '../support/berth.js';
import {
  call,
  checkErrorBody,
  emptyJson,
  imageManifest,
  ociManifestType,
  pushBlob,
  pushManifest,
  randomBlob,
  rawRequest,
  sha256,
  startUpload,
  type RawResponse,
} from '../support/oci-client.js';

const hostileNames = [
  '..',
  '../escape',
  'a/../escape',
  'a/../../../../escape',
  '%2e%2e/escape',
  'a/%2e%2e/escape',
  'a/%2E%2E/%2e%2e/escape',
  '.%2e/escape',
  '..%2fescape',
  'a%2Fb',
  'a/./b',
  './a',
  'a//b',
  'UPPER',
  'Mixed/Case',
  'a'.repeat(300),
  `${'abc/'.repeat(70)}x`,
  '-lead',
  'trail-',
  'a__b_',
  'a%00b',
  'a%20b',
  'a b',
  'émoji',
];

/** Every repository-scoped endpoint, to try each hostile name against. */
const endpoints = (n: string, digest: string): [string, string, Buffer?][] => [
  ['POST', `/v2/${n}/blobs/uploads/`],
  ['POST', `/v2/${n}/blobs/uploads/?digest=${digest}`, emptyJson],
  ['POST', `/v2/${n}/blobs/uploads/?mount=${digest}&from=ok`],
  ['GET', `/v2/${n}/blobs/${digest}`],
  ['HEAD', `/v2/${n}/blobs/${digest}`],
  ['DELETE', `/v2/${n}/blobs/${digest}`],
  ['PUT', `/v2/${n}/manifests/latest`, imageManifest({})],
  ['GET', `/v2/${n}/manifests/latest`],
  ['DELETE', `/v2/${n}/manifests/latest`],
  ['GET', `/v2/${n}/tags/list`],
  ['GET', `/v2/${n}/referrers/${digest}`],
  ['PATCH', `/v2/${n}/blobs/uploads/00000000-0000-4000-8000-000000000000`, emptyJson],
];

function checkError(res: RawResponse, status: number, code?: string): void {
  assert.equal(res.status, status, res.body.toString());
  checkErrorBody(
    res.headers['content-type'],
    res.body.toString(),
    code,
    res.headers['docker-distribution-api-version'] as string | undefined,
  );
}

describe('hostile input', () => {
  let sandbox: string;
  let berth: TestBerth;

  before(async () => {
    sandbox = await mkdtemp(join(tmpdir(), 'berth-hostile-'));
    berth = await startTestBerth({}, { dataDir: join(sandbox, 'data') });
    await pushBlob(berth.base, 'ok', emptyJson);
  });
  after(async () => {
    await berth.dispose();
    await rm(sandbox, { recursive: true, force: true });
  });

  describe('repository names', () => {
    for (const name of hostileNames) {
      it(`"${name.length > 40 ? `${name.slice(0, 20)}... (${name.length} chars)` : name}" is 400 NAME_INVALID on every endpoint`, async () => {
        const path = name.replace(/ /g, '%20').replace(/é/g, '%C3%A9');
        for (const [method, url, body] of endpoints(path, sha256(emptyJson))) {
          const res = await rawRequest(
            berth.base,
            method,
            url,
            body ? { 'Content-Type': ociManifestType } : {},
            body,
          );
          if (method === 'HEAD') {
            assert.equal(res.status, 400, `${method} ${url}`);
            assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0');
          } else {
            checkError(res, 400, 'NAME_INVALID');
          }
        }
      });
    }

    it('a 255-character name is still valid', async () => {
      const name = `${'a'.repeat(127)}/${'b'.repeat(127)}`;
      assert.equal(name.length, 255);
      await pushBlob(berth.base, name, emptyJson);
    });

    it('a mount whose from is hostile is an ordinary upload session, not a crash', async () => {
      for (const from of ['../ok', '%2e%2e/ok', 'a/../ok', 'UPPER']) {
        const res = await rawRequest(
          berth.base,
          'POST',
          `/v2/mount-target/blobs/uploads/?mount=${sha256(emptyJson)}&from=${from}`,
        );
        assert.equal(res.status, 202, from);
        assert.match(String(res.headers.location), /^\/v2\/mount-target\/blobs\/uploads\//);
      }
    });

    it('nothing was created outside the data folder, nor any repository from a hostile name', async () => {
      assert.deepEqual(await readdir(sandbox), ['data']);
      const catalog = (await (await call(berth.base, '/v2/_catalog')).json()) as { repositories: string[] };
      for (const repo of catalog.repositories) assert.match(repo, /^(ok|mount-target|a{127}\/b{127})$/, repo);
      const files = await readdir(join(sandbox, 'data'), { recursive: true });
      assert.ok(!files.some((f) => f.includes('escape') || f.includes('..')), files.join(', '));
    });
  });

  describe('garbage in parameters, headers and bodies', () => {
    const garbage = (): [string, string, Record<string, string>?, Buffer?][] => [
      ['GET', '/v2/ok/blobs/sha256:'],
      ['GET', '/v2/ok/blobs/sha256'],
      ['GET', '/v2/ok/blobs/:abc'],
      ['GET', `/v2/ok/blobs/sha256:${'g'.repeat(64)}`],
      ['GET', `/v2/ok/blobs/sha512:${'a'.repeat(64)}`],
      ['GET', `/v2/ok/blobs/${'x'.repeat(5000)}`],
      ['GET', '/v2/ok/blobs/%ZZ'],
      ['GET', `/v2/ok/blobs/${sha256(emptyJson)}`, { Range: 'bytes=99999999999999999999-' }],
      ['GET', `/v2/ok/blobs/${sha256(emptyJson)}`, { Range: 'bytes=-99999999999999999999' }],
      ['GET', `/v2/ok/blobs/${sha256(emptyJson)}`, { Range: 'bytes=1-2-3' }],
      ['GET', '/v2/ok/manifests/%ZZ'],
      ['GET', '/v2/ok/manifests/sha256:baddigeststring'],
      ['GET', `/v2/ok/manifests/${'t'.repeat(500)}`],
      ['GET', '/v2/ok/manifests/..'],
      ['GET', '/v2/ok/manifests/%2e%2e'],
      ['PUT', '/v2/ok/manifests/..', { 'Content-Type': ociManifestType }, imageManifest({})],
      ['PUT', '/v2/ok/manifests/x?tag=..&tag=%2e%2e', { 'Content-Type': ociManifestType }, imageManifest({})],
      ['PUT', '/v2/ok/manifests/x', { 'Content-Type': 'text/plain' }, Buffer.from('not json')],
      [
        'PUT',
        '/v2/ok/manifests/x',
        { 'Content-Type': ociManifestType },
        Buffer.from(`${'['.repeat(100_000)}${']'.repeat(100_000)}`),
      ],
      [
        'PUT',
        '/v2/ok/manifests/x',
        { 'Content-Type': ociManifestType },
        Buffer.from(
          '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"x","digest":"sha256:../../../etc/passwd","size":1},"layers":[]}',
        ),
      ],
      [
        'PUT',
        '/v2/ok/manifests/x',
        { 'Content-Type': ociManifestType },
        Buffer.from(
          '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"x","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":1e400},"layers":[]}',
        ),
      ],
      [
        'PUT',
        '/v2/ok/manifests/x',
        { 'Content-Type': ociManifestType },
        Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.unknown+json","config":{},"layers":[]}'),
      ],
      [
        'PUT',
        '/v2/ok/manifests/x',
        { 'Content-Type': ociManifestType },
        Buffer.from(
          '{"schemaVersion":2,"manifests":[{"mediaType":"x","digest":"sha256:abc","size":1}],"__proto__":{"polluted":true}}',
        ),
      ],
      [
        'PUT',
        '/v2/ok/manifests/x',
        { 'Content-Type': ociManifestType },
        Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
      ],
      ['GET', '/v2/ok/tags/list?n=-5'],
      ['GET', '/v2/ok/tags/list?n=1e3'],
      ['GET', '/v2/ok/tags/list?n=99999999999999999999999'],
      ['GET', `/v2/ok/tags/list?last=${'%ff'.repeat(100)}`],
      ['GET', '/v2/_catalog?n=%00'],
      ['GET', '/v2/ok/referrers/sha256:zz'],
      ['GET', '/v2/ok/referrers/%ZZ?artifactType=%ZZ'],
      ['POST', '/v2/ok/blobs/uploads/?digest=sha256:nope', {}, Buffer.from('x')],
      ['POST', '/v2/ok/blobs/uploads/?mount=../../etc/passwd'],
      ['POST', '/v2/ok/blobs/uploads/?mount=&from='],
      ['PATCH', '/v2/ok/blobs/uploads/..', {}, Buffer.from('x')],
      ['PATCH', '/v2/ok/blobs/uploads/%2e%2e%2f%2e%2e%2fescape', {}, Buffer.from('x')],
      ['PUT', `/v2/ok/blobs/uploads/../../x?digest=${sha256('x')}`, {}, Buffer.from('x')],
      ['GET', '/v2/ok/blobs/uploads/not-a-uuid'],
      ['DELETE', '/v2/ok/blobs/uploads/%00'],
      ['OPTIONS', '/v2/ok/tags/list'],
      ['TRACE', '/v2/'],
      ['GET', '/v2/ok/unknown-endpoint'],
      ['GET', '/v2/_catalog/extra'],
    ];

    it('no bad input gets a 500; every error has a spec body and the API version header', async () => {
      for (const [method, path, headers, body] of garbage()) {
        const res = await rawRequest(berth.base, method, path, headers ?? {}, body);
        const what = `${method} ${path.slice(0, 80)} -> ${res.status} ${res.body.toString().slice(0, 200)}`;
        assert.ok(res.status < 500, what);
        assert.equal(res.headers['docker-distribution-api-version'], 'registry/2.0', what);
        if (res.status >= 400)
          checkErrorBody(
            res.headers['content-type'],
            res.body.toString(),
            undefined,
            res.headers['docker-distribution-api-version'],
          );
      }
    });

    it('malformed chunk headers on a live upload are refused without killing the session', async () => {
      const location = new URL(await startUpload(berth.base, 'ok'));
      for (const range of ['bytes=0-0', '-1-4', '0-', '4-0', 'a-b', '0-99999999999999999999', '0-1/x']) {
        const res = await rawRequest(
          berth.base,
          'PATCH',
          location.pathname,
          { 'Content-Range': range },
          Buffer.from('12345'),
        );
        assert.ok(res.status === 416 || res.status === 400, `${range}: ${res.status}`);
        checkErrorBody(
          res.headers['content-type'],
          res.body.toString(),
          undefined,
          res.headers['docker-distribution-api-version'] as string,
        );
      }
      const status = await rawRequest(berth.base, 'GET', location.pathname);
      assert.equal(status.status, 204);
      assert.equal(status.headers.range, '0-0');
    });
  });

  describe('Docker-Distribution-API-Version on every response', () => {
    it('is present on 200, 201, 202, 204, 206, 304, 400, 404, 405, 413 and 416 answers', async () => {
      const blob = randomBlob(100);
      const seen = new Map<number, string | null>();
      const note = async (res: Response) => {
        seen.set(res.status, res.headers.get('docker-distribution-api-version'));
        await res.arrayBuffer();
      };
      const digest = await pushBlob(berth.base, 'ok', blob);
      const manifestDigest = await pushManifest(berth.base, 'ok', 'v1', imageManifest({}));
      const location = await startUpload(berth.base, 'ok');
      await note(await call(berth.base, '/v2/'));
      await note(await call(berth.base, '/v2', { method: 'HEAD' }));
      await note(
        await call(berth.base, `/v2/ok/manifests/v2`, {
          method: 'PUT',
          headers: { 'Content-Type': ociManifestType },
          body: imageManifest({}),
        }),
      );
      await note(await call(berth.base, '/v2/ok/blobs/uploads/', { method: 'POST' }));
      await note(await call(berth.base, location));
      await note(await call(berth.base, `/v2/ok/blobs/${digest}`, { headers: { Range: 'bytes=1-2' } }));
      await note(
        await call(berth.base, `/v2/ok/manifests/${manifestDigest}`, {
          headers: { 'If-None-Match': `"${manifestDigest}"` },
        }),
      );
      await note(await call(berth.base, '/v2/ok/blobs/sha256:bad'));
      await note(await call(berth.base, '/v2/ok/manifests/missing'));
      await note(await call(berth.base, '/v2/ok/tags/list', { method: 'DELETE' }));
      await note(await call(berth.base, `/v2/ok/blobs/${digest}`, { headers: { Range: 'bytes=500-' } }));
      const big = await rawRequest(
        berth.base,
        'PUT',
        '/v2/ok/manifests/big',
        { 'Content-Type': ociManifestType },
        Buffer.alloc(4 * 1024 * 1024 + 1, 0x20),
      );
      seen.set(big.status, (big.headers['docker-distribution-api-version'] as string | undefined) ?? null);
      assert.deepEqual([...seen.keys()].sort(), [200, 201, 202, 204, 206, 304, 400, 404, 405, 413, 416]);
      for (const [status, header] of seen) assert.equal(header, 'registry/2.0', `status ${status}`);
    });

    it('GET /v2/ answers 200 with an empty JSON object', async () => {
      const res = await call(berth.base, '/v2/');
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('docker-distribution-api-version'), 'registry/2.0');
      assert.deepEqual(await res.json(), {});
    });
  });
});
