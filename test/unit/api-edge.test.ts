// The management API's edge pieces on their own: routing, Harbor's query language, error mapping,
// signed sessions and CSRF tokens, and the pull recorder's batching.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PullRecorder } from '../../src/core/content/pull-recorder.js';
import { RegistryError, registryErrorCodes } from '../../src/core/errors.js';
import type { User } from '../../src/core/iam/model.js';
import type { Digest } from '../../src/core/oci/digest.js';
import { harborErrorOf, harborStatus } from '../../src/http/api/errors.js';
import { Router, route, type Route } from '../../src/http/api/router.js';
import { parseHarborQuery, repositoryParam } from '../../src/http/api/routes/common.js';
import { SessionCodec } from '../../src/http/api/session.js';

const noop = () => Promise.resolve({ status: 200 });
const r = (method: 'GET' | 'PUT', path: string): Route =>
  route({
    method,
    path,
    operationId: `${method} ${path}`,
    summary: '',
    tag: 't',
    responses: {},
    handler: noop,
  });

describe('API router', () => {
  const router = new Router([
    r('GET', '/users/{user_id}'),
    r('GET', '/users/current'),
    r('PUT', '/users/{user_id}'),
    r('GET', '/p/{a}/x/{b}'),
  ]);

  it('prefers the template with more literal segments', () => {
    const match = router.match('GET', '/users/current');
    assert.equal(match.kind === 'found' && match.route.path, '/users/current');
    const byId = router.match('GET', '/users/7');
    assert.deepEqual(byId.kind === 'found' && byId.params, { user_id: '7' });
  });

  it('decodes each segment once, leaving a double-encoded slash for the parameter schema', () => {
    const match = router.match('GET', '/p/a%252Fb/x/c%20d');
    assert.deepEqual(match.kind === 'found' && match.params, { a: 'a%2Fb', b: 'c d' });
    assert.equal(repositoryParam.parse('a%2Fb'), 'a/b');
    assert.equal(repositoryParam.parse('a/b'), 'a/b');
  });

  it('tells a wrong method apart from an unknown path', () => {
    assert.deepEqual(router.match('DELETE', '/users/7'), { kind: 'method', allowed: ['GET', 'PUT'] });
    assert.deepEqual(router.match('GET', '/users/7/extra'), { kind: 'none' });
    assert.throws(() => router.match('GET', '/users/%E0%A4%A'), /percent-encoding/);
  });
});

describe("Harbor's q language", () => {
  it('reads exact and fuzzy terms', () => {
    const terms = parseHarborQuery('name=~web,Level=project, ProjectID=3');
    assert.deepEqual(Object.fromEntries(terms), {
      name: { op: 'fuzzy', value: 'web' },
      Level: { op: 'exact', value: 'project' },
      ProjectID: { op: 'exact', value: '3' },
    });
    assert.equal(parseHarborQuery(undefined).size, 0);
    assert.throws(() => parseHarborQuery('novalue'));
    assert.throws(() => parseHarborQuery('size=[1~5]'));
  });
});

describe('error mapping', () => {
  it('gives every domain code a Harbor code and hides unexpected failures', () => {
    for (const code of registryErrorCodes) {
      const mapped = harborErrorOf(new RegistryError(code, 'm'));
      assert.equal(mapped.status, harborStatus[mapped.code]);
    }
    assert.deepEqual(
      ['DENIED', 'NOT_FOUND', 'CONFLICT', 'PRECONDITION_FAILED', 'TAG_INVALID'].map(
        (c) => harborErrorOf(new RegistryError(c as never, 'm')).code,
      ),
      ['FORBIDDEN', 'NOT_FOUND', 'CONFLICT', 'PRECONDITION', 'BAD_REQUEST'],
    );
    const hidden = harborErrorOf(new Error('secret database detail'));
    assert.deepEqual([hidden.status, hidden.code, hidden.message], [500, 'UNKNOWN', 'internal server error']);
  });
});

describe('signed sessions', () => {
  const user = { id: 4, username: 'ivy' } as User;
  const codec = new SessionCodec(Buffer.alloc(32, 7), 60_000);
  const start = new Date('2025-01-01T00:00:00Z');

  it('verifies what it issued until it expires, and nothing tampered with', () => {
    const issued = codec.issue({ kind: 'user', user }, start)!;
    assert.deepEqual(codec.verify(issued.value, start), issued.session);
    assert.equal(codec.verify(issued.value, new Date(start.getTime() + 60_000)), undefined, 'expired');
    const [payload, signature] = issued.value.split('.');
    const forged = Buffer.from(JSON.stringify({ ...issued.session, name: 'admin' })).toString('base64url');
    assert.equal(codec.verify(`${forged}.${signature}`, start), undefined);
    assert.equal(codec.verify(`${payload}.x${signature!.slice(1)}`, start), undefined);
    assert.equal(
      new SessionCodec(Buffer.alloc(32, 8), 60_000).verify(issued.value, start),
      undefined,
      'other key',
    );
  });

  it('derives the CSRF token from the session and checks header and cookie', () => {
    const { session } = codec.issue({ kind: 'user', user }, start)!;
    const token = codec.csrfToken(session);
    assert.ok(codec.checkCsrf(session, token, token));
    assert.ok(!codec.checkCsrf(session, token, undefined));
    assert.ok(!codec.checkCsrf(session, 'x', 'x'));
    const other = codec.issue({ kind: 'user', user }, start)!.session;
    assert.ok(!codec.checkCsrf(other, token, token), 'a token is bound to its session');
    assert.equal(codec.renew(session, new Date(start.getTime() + 40_000)).session.nonce, session.nonce);
    assert.ok(codec.needsRenewal(session, new Date(start.getTime() + 31_000)));
  });
});

describe('pull recorder', () => {
  it('batches pulls and writes one entry per pull on flush', async () => {
    const batches: { repository: string; digest: Digest; at: Date }[][] = [];
    const recorder = new PullRecorder(
      {
        recordPulls: (pulls) => {
          batches.push(pulls);
          return Promise.resolve();
        },
      },
      { now: () => new Date(0) },
      { intervalMs: 60_000 },
    );
    const digest = `sha256:${'b'.repeat(64)}` as Digest;
    recorder.record('a/b', digest);
    recorder.record('a/b', digest);
    recorder.record('a/c', digest);
    assert.equal(batches.length, 0, 'nothing is written on the request path');
    await recorder.close();
    assert.equal(batches.length, 1);
    assert.deepEqual(
      batches[0]!.map((p) => p.repository),
      ['a/b', 'a/b', 'a/c'],
    );
  });

  it('flushes on its timer and survives a failing store', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const recorder = new PullRecorder(
      { recordPulls: () => (calls++ === 0 ? Promise.reject(new Error('db down')) : Promise.resolve()) },
      { now: () => new Date() },
      { intervalMs: 10, onError: (e) => errors.push(e) },
    );
    recorder.record('x/y', `sha256:${'c'.repeat(64)}` as Digest);
    await new Promise((done) => setTimeout(done, 50));
    recorder.record('x/y', `sha256:${'c'.repeat(64)}` as Digest);
    await recorder.close();
    assert.equal(calls, 2);
    assert.equal(errors.length, 1);
  });
});
