// Robot accounts: project and system level, secrets shown once, expiry, disable, refresh, and access.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBerth } from '../support/berth.js';
import {
  adminPassword,
  Api,
  basic,
  createProject,
  createUser,
  expectHarborError,
  expectStatus,
  pushImage,
  startApiBerth,
} from './support.js';

interface RobotJson {
  id: number;
  name: string;
  level: string;
  duration: number;
  disable: boolean;
  expires_at: number;
  editable: boolean;
  permissions: { kind: string; namespace: string; access: { resource: string; action: string }[] }[];
}

const pushPull = (namespace: string) => [
  {
    kind: 'project',
    namespace,
    access: [
      { resource: 'repository', action: 'push' },
      { resource: 'repository', action: 'pull' },
      { resource: 'repository', action: 'list' },
    ],
  },
];

describe('robot accounts', () => {
  let berth: TestBerth;
  let admin: Api;
  let lead: Api;
  let projectId: number;

  before(async () => {
    berth = await startApiBerth();
    admin = Api.as(berth.base, 'admin', adminPassword);
    await createUser(admin, 'lead', 'Lead123456');
    await createUser(admin, 'dev', 'Dev1234567');
    lead = Api.as(berth.base, 'lead', 'Lead123456');
    projectId = await createProject(lead, 'factory');
    await createProject(admin, 'other');
    expectStatus(
      await lead.post('/projects/factory/members', { role_id: 2, member_user: { username: 'dev' } }),
      201,
    );
  });
  after(() => berth.dispose());

  async function createRobot(api: Api, body: Record<string, unknown>) {
    return api.post('/robots', { level: 'project', duration: 30, permissions: pushPull('factory'), ...body });
  }

  it('creates a project robot whose secret is shown once and works for pushes', async () => {
    const res = expectStatus(await createRobot(lead, { name: 'builder', description: 'CI' }), 201);
    const created = res.body as { id: number; name: string; secret: string; creation_time: string };
    assert.equal(res.headers.get('location'), `/api/v2.0/robots/${created.id}`);
    assert.equal(created.name, 'robot$factory+builder');
    assert.ok(
      created.secret.length >= 32 &&
        /[A-Z]/.test(created.secret) &&
        /[a-z]/.test(created.secret) &&
        /\d/.test(created.secret),
    );
    await pushImage(berth.base, basic(created.name, created.secret), 'factory/app', 'v1');
    const robot = expectStatus(await lead.get(`/robots/${created.id}`), 200);
    assert.equal((robot.body as Record<string, unknown>).secret, undefined, 'GET never shows the secret');
    const listed = expectStatus(await lead.get(`/projects/factory/robots`), 200);
    assert.ok(!listed.text.includes(created.secret), 'lists never show the secret');
    assert.deepEqual(
      (listed.body as RobotJson[]).map((r) => [r.name, r.level, r.editable]),
      [['robot$factory+builder', 'project', true]],
    );
  });

  it('keeps a project robot inside its project', async () => {
    const access = [
      { resource: 'repository', action: 'pull' },
      { resource: 'repository', action: 'list' },
    ];
    const res = expectStatus(
      await createRobot(lead, {
        name: 'reader',
        permissions: [{ kind: 'project', namespace: 'factory', access }],
      }),
      201,
    );
    const { name, secret } = res.body as { name: string; secret: string };
    const robot = new Api(berth.base, basic(name, secret));
    expectStatus(await robot.get('/projects/factory/repositories'), 200);
    expectHarborError(await robot.get('/projects/other/repositories'), 403, 'FORBIDDEN');
    const push = await fetch(new URL('/v2/factory/app/blobs/uploads/', berth.base), {
      method: 'POST',
      headers: { authorization: basic(name, secret) },
    });
    assert.ok(push.status === 401 || push.status === 403, `a pull-only robot cannot push (${push.status})`);
    await push.arrayBuffer();
  });

  it('computes expires_at from duration (-1 never expires)', async () => {
    const forever = expectStatus(await createRobot(lead, { name: 'forever', duration: -1 }), 201).body as {
      id: number;
      expires_at: number;
    };
    assert.equal(forever.expires_at, -1);
    const robot = expectStatus(await lead.get(`/robots/${forever.id}`), 200).body as RobotJson;
    assert.equal(robot.duration, -1);
    assert.equal(robot.expires_at, -1);
    const month = expectStatus(await createRobot(lead, { name: 'month', duration: 0 }), 201).body as {
      expires_at: number;
    };
    assert.ok(
      Math.abs(month.expires_at - (Date.now() / 1000 + 30 * 86400)) < 120,
      'duration 0 is the 30-day default',
    );
  });

  it('validates names, levels, durations and permissions', async () => {
    expectHarborError(await createRobot(lead, { name: 'Bad Name' }), 400, 'BAD_REQUEST');
    expectHarborError(await createRobot(lead, { name: 'a+b' }), 400, 'BAD_REQUEST');
    expectHarborError(await createRobot(lead, { name: 'x', level: 'galaxy' }), 400, 'BAD_REQUEST');
    expectHarborError(await createRobot(lead, { name: 'x', duration: -2 }), 400, 'BAD_REQUEST');
    expectHarborError(await createRobot(lead, { name: 'x', permissions: [] }), 400, 'BAD_REQUEST');
    expectHarborError(
      await createRobot(lead, {
        name: 'x',
        permissions: [{ kind: 'project', namespace: 'factory', access: [] }],
      }),
      400,
      'BAD_REQUEST',
    );
    expectHarborError(
      await createRobot(lead, {
        name: 'x',
        permissions: [
          { kind: 'project', namespace: 'factory', access: [{ resource: 'spaceship', action: 'fly' }] },
        ],
      }),
      400,
      'BAD_REQUEST',
    );
    expectHarborError(
      await createRobot(lead, { name: 'x', permissions: [...pushPull('factory'), ...pushPull('other')] }),
      400,
      'BAD_REQUEST',
    );
    expectHarborError(
      await createRobot(lead, { name: 'x', permissions: pushPull('missing') }),
      404,
      'NOT_FOUND',
    );
    expectHarborError(await createRobot(lead, { name: 'builder' }), 409, 'CONFLICT');
  });

  it('lets only those who manage robots in the project create them', async () => {
    const dev = Api.as(berth.base, 'dev', 'Dev1234567');
    expectHarborError(await createRobot(dev, { name: 'sneaky' }), 403, 'FORBIDDEN');
    expectHarborError(
      await createRobot(lead, { name: 'elsewhere', permissions: pushPull('other') }),
      403,
      'FORBIDDEN',
    );
    expectHarborError(await createRobot(new Api(berth.base), { name: 'anon' }), 401, 'UNAUTHORIZED');
  });

  it('creates system robots (system admins only) that may span projects', async () => {
    const access = [
      { resource: 'repository', action: 'pull' },
      { resource: 'repository', action: 'list' },
    ];
    const body = {
      name: 'mirror',
      level: 'system',
      duration: -1,
      permissions: [{ kind: 'project', namespace: '*', access }],
    };
    expectHarborError(await lead.post('/robots', body), 403, 'FORBIDDEN');
    const res = expectStatus(await admin.post('/robots', body), 201).body as { name: string; secret: string };
    assert.equal(res.name, 'robot$mirror');
    const robot = new Api(berth.base, basic(res.name, res.secret));
    expectStatus(await robot.get('/projects/factory/repositories'), 200);
    expectStatus(await robot.get('/projects/other/repositories'), 200);
    const system = expectStatus(await admin.get('/robots'), 200).body as RobotJson[];
    assert.deepEqual(
      system.map((r) => r.name),
      ['robot$mirror'],
    );
    expectHarborError(await lead.get('/robots'), 403, 'FORBIDDEN');
    const inProject = expectStatus(
      await lead.get(`/robots?q=Level%3Dproject%2CProjectID%3D${projectId}`),
      200,
    );
    assert.ok((inProject.body as RobotJson[]).every((r) => r.level === 'project'));
    assert.equal(inProject.headers.get('x-total-count'), String((inProject.body as RobotJson[]).length));
  });

  it('disables a robot with PUT, which stops its logins, and refuses renames', async () => {
    const created = expectStatus(await createRobot(lead, { name: 'toggled' }), 201).body as {
      id: number;
      name: string;
      secret: string;
    };
    const robot = new Api(berth.base, basic(created.name, created.secret));
    expectStatus(await robot.get('/projects/factory/repositories'), 200);
    const current = expectStatus(await lead.get(`/robots/${created.id}`), 200).body as RobotJson;
    expectStatus(await lead.put(`/robots/${created.id}`, { ...current, disable: true }), 200);
    assert.equal(
      (expectStatus(await lead.get(`/robots/${created.id}`), 200).body as RobotJson).disable,
      true,
    );
    expectHarborError(await robot.get('/projects/factory/repositories'), 401, 'UNAUTHORIZED');
    expectHarborError(
      await lead.put(`/robots/${created.id}`, { ...current, name: 'renamed' }),
      400,
      'BAD_REQUEST',
    );
    expectHarborError(
      await lead.put(`/robots/${created.id}`, { ...current, level: 'system' }),
      400,
      'BAD_REQUEST',
    );
    expectStatus(await lead.put(`/robots/${created.id}`, { ...current, disable: false, duration: -1 }), 200);
    const enabled = expectStatus(await lead.get(`/robots/${created.id}`), 200).body as RobotJson;
    assert.equal(enabled.expires_at, -1);
    expectStatus(await robot.get('/projects/factory/repositories'), 200);
  });

  it('refreshes a secret: generated when none is given, or the given strong one', async () => {
    const created = expectStatus(await createRobot(lead, { name: 'rotated' }), 201).body as {
      id: number;
      name: string;
      secret: string;
    };
    const generated = expectStatus(await lead.patch(`/robots/${created.id}`, {}), 200).body as {
      secret: string;
    };
    assert.ok(generated.secret.length >= 32);
    assert.notEqual(generated.secret, created.secret);
    const repositories = '/projects/factory/repositories';
    expectHarborError(
      await new Api(berth.base, basic(created.name, created.secret)).get(repositories),
      401,
      'UNAUTHORIZED',
    );
    expectStatus(await new Api(berth.base, basic(created.name, generated.secret)).get(repositories), 200);
    expectHarborError(await lead.patch(`/robots/${created.id}`, { secret: 'weak' }), 400, 'BAD_REQUEST');
    const given = expectStatus(await lead.patch(`/robots/${created.id}`, { secret: 'Given12345' }), 200)
      .body as { secret: string };
    assert.equal(given.secret, 'Given12345');
    expectStatus(await new Api(berth.base, basic(created.name, 'Given12345')).get(repositories), 200);
  });

  it('deletes robots', async () => {
    const created = expectStatus(await createRobot(lead, { name: 'doomed' }), 201).body as { id: number };
    const dev = Api.as(berth.base, 'dev', 'Dev1234567');
    expectHarborError(await dev.delete(`/robots/${created.id}`), 403, 'FORBIDDEN');
    expectStatus(await lead.delete(`/robots/${created.id}`), 200);
    expectHarborError(await lead.get(`/robots/${created.id}`), 404, 'NOT_FOUND');
    expectHarborError(await lead.delete(`/robots/${created.id}`), 404, 'NOT_FOUND');
  });
});
