// Harbor's error shape and codes for every kind of failure, Harbor's paging headers, and the OpenAPI
// document generated from the route definitions.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBerth } from '../support/berth.js';
import {
  adminPassword,
  Api,
  createProject,
  expectHarborError,
  expectStatus,
  startApiBerth,
} from './support.js';

describe('Harbor error shape', () => {
  let berth: TestBerth;
  let admin: Api;

  before(async () => {
    berth = await startApiBerth();
    admin = Api.as(berth.base, 'admin', adminPassword);
    await createProject(admin, 'errs');
  });
  after(() => berth.dispose());

  it('answers each failure with its Harbor code and status', async () => {
    expectHarborError(await admin.get('/projects/missing'), 404, 'NOT_FOUND');
    expectHarborError(await admin.get('/no/such/endpoint'), 404, 'NOT_FOUND');
    expectHarborError(await admin.post('/projects', { project_name: 'errs' }), 409, 'CONFLICT');
    expectHarborError(await admin.post('/projects', { project_name: 42 }), 400, 'BAD_REQUEST');
    expectHarborError(await new Api(berth.base).get('/users/current'), 401, 'UNAUTHORIZED');
    expectHarborError(
      await Api.as(berth.base, 'admin', 'wrong-password').get('/projects'),
      401,
      'UNAUTHORIZED',
    );
    expectHarborError(await new Api(berth.base, 'Digest abc').get('/projects'), 401, 'UNAUTHORIZED');
    expectHarborError(await new Api(berth.base).get('/projects/errs'), 401, 'UNAUTHORIZED');
    const patch = await admin.call('PATCH', '/projects');
    expectHarborError(patch, 405, 'METHOD_NOT_ALLOWED');
    assert.match(patch.headers.get('allow') ?? '', /GET/);
  });

  it('refuses malformed bodies and parameters with BAD_REQUEST', async () => {
    const raw = await fetch(new URL('/api/v2.0/projects', berth.base), {
      method: 'POST',
      headers: { authorization: admin.authorization!, 'content-type': 'application/json' },
      body: '{"project_name": ',
    });
    const text = await raw.text();
    expectHarborError(
      { status: raw.status, headers: raw.headers, body: JSON.parse(text), text },
      400,
      'BAD_REQUEST',
    );
    expectHarborError(await admin.get('/users/not-a-number'), 400, 'BAD_REQUEST');
    expectHarborError(await admin.get('/projects/errs/repositories/%E0%A4%A'), 400, 'BAD_REQUEST');
    expectHarborError(
      await admin.get('/projects/errs/repositories/x/artifacts/sha256:zz'),
      400,
      'BAD_REQUEST',
    );
  });

  it('pages with X-Total-Count and Link (prev and next)', async () => {
    for (let i = 0; i < 4; i++) await createProject(admin, `page${i}`);
    // 6 projects: errs, library, page0-3.
    const first = expectStatus(await admin.get('/projects?page_size=2'), 200);
    assert.equal(first.headers.get('x-total-count'), '6');
    assert.equal(first.headers.get('link'), '</api/v2.0/projects?page_size=2&page=2>; rel="next"');
    const middle = expectStatus(await admin.get('/projects?page=2&page_size=2'), 200);
    assert.deepEqual(
      (middle.body as { name: string }[]).map((p) => p.name),
      ['page0', 'page1'],
    );
    assert.equal(
      middle.headers.get('link'),
      '</api/v2.0/projects?page=1&page_size=2>; rel="prev" , </api/v2.0/projects?page=3&page_size=2>; rel="next"',
    );
    const last = expectStatus(await admin.get('/projects?page=3&page_size=2'), 200);
    assert.equal(last.headers.get('link'), '</api/v2.0/projects?page=2&page_size=2>; rel="prev"');
    const beyond = expectStatus(await admin.get('/projects?page=9&page_size=2'), 200);
    assert.deepEqual(beyond.body, []);
    assert.equal(beyond.headers.get('x-total-count'), '6');
    const defaults = expectStatus(await admin.get('/projects'), 200);
    assert.equal((defaults.body as unknown[]).length, 6);
    assert.equal(defaults.headers.get('link'), null);
  });

  it('defaults page_size to 10 and refuses more than 100', async () => {
    for (let i = 4; i < 10; i++) await createProject(admin, `page${i}`);
    const res = expectStatus(await admin.get('/projects'), 200);
    assert.equal((res.body as unknown[]).length, 10);
    assert.equal(res.headers.get('x-total-count'), '12');
    expectHarborError(await admin.get('/projects?page_size=101'), 400, 'BAD_REQUEST');
    expectHarborError(await admin.get('/projects?page=0'), 400, 'BAD_REQUEST');
    expectStatus(await admin.get('/projects?page_size=100'), 200);
  });

  it('publishes an OpenAPI 3 document generated from the routes', async () => {
    const doc = expectStatus(await new Api(berth.base).get('/openapi.json'), 200).body as {
      openapi: string;
      paths: Record<
        string,
        Record<
          string,
          { operationId: string; parameters: { name: string; in: string }[]; requestBody?: unknown }
        >
      >;
    };
    assert.match(doc.openapi, /^3\./);
    for (const path of [
      '/projects',
      '/projects/{project_name_or_id}',
      '/projects/{project_name_or_id}/summary',
      '/projects/{project_name_or_id}/members/{mid}',
      '/robots/{robot_id}',
      '/users/{user_id}/password',
      '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}',
      '/search',
      '/systeminfo',
      '/health',
    ]) {
      assert.ok(doc.paths[path], `${path} is documented`);
    }
    assert.deepEqual(Object.keys(doc.paths['/robots/{robot_id}']!).sort(), ['delete', 'get', 'patch', 'put']);
    const list = doc.paths['/projects']!.get!;
    assert.equal(list.operationId, 'listProjects');
    assert.ok(list.parameters.some((p) => p.name === 'page_size' && p.in === 'query'));
    assert.ok(doc.paths['/projects']!.post!.requestBody, 'bodies are documented');
    assert.ok(
      doc.paths['/projects/{project_name_or_id}']!.get!.parameters.some(
        (p) => p.name === 'X-Is-Resource-Name' && p.in === 'header',
      ),
    );
  });

  it('answers health, systeminfo, ping and search', async () => {
    const health = expectStatus(await new Api(berth.base).get('/health'), 200).body as {
      status: string;
      components: { name: string }[];
    };
    assert.equal(health.status, 'healthy');
    assert.deepEqual(
      health.components.map((c) => c.name),
      ['core', 'database', 'storage'],
    );
    const info = expectStatus(await new Api(berth.base).get('/systeminfo'), 200).body as Record<
      string,
      unknown
    >;
    assert.equal(info.auth_mode, 'db_auth');
    assert.equal(info.registry_storage_provider_name, 'filesystem');
    const ping = expectStatus(await new Api(berth.base).get('/ping'), 200);
    assert.equal(ping.text, 'Pong');
    const search = expectStatus(await admin.get('/search?q=page1'), 200).body as {
      project: { name: string }[];
      repository: unknown[];
    };
    assert.deepEqual(
      search.project.map((p) => p.name),
      ['page1'],
    );
    const anonymousSearch = expectStatus(await new Api(berth.base).get('/search?q=page'), 200).body as {
      project: unknown[];
    };
    assert.deepEqual(anonymousSearch.project, [], 'private projects stay hidden');
  });
});
