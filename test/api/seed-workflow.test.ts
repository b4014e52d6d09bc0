// The workflow existing Harbor scripts run against a fresh project, step by step and with Harbor's
// bodies: add a developer by username, create a CI robot, read the summary, list repositories and artifacts.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { TestBerth } from '../support/berth.js';
import {
  adminPassword,
  Api,
  basic,
  createProject,
  createUser,
  expectStatus,
  pushImage,
  startApiBerth,
} from './support.js';

describe('the seed workflow', () => {
  let berth: TestBerth;
  let admin: Api;
  let robotName = '';
  let robotSecret = '';

  before(async () => {
    berth = await startApiBerth();
    admin = Api.as(berth.base, 'admin', adminPassword);
    await createProject(admin, 'seed');
    await createUser(admin, 'developer', 'Developer123');
  });
  after(() => berth.dispose());

  it('adds a member with role_id 2 by username', async () => {
    const res = expectStatus(
      await admin.post('/projects/seed/members', { role_id: 2, member_user: { username: 'developer' } }),
      201,
    );
    assert.match(res.headers.get('location') ?? '', /^\/api\/v2\.0\/projects\/seed\/members\/\d+$/);
    const members = expectStatus(await admin.get('/projects/seed/members'), 200).body as {
      entity_name: string;
      role_id: number;
      role_name: string;
    }[];
    const developer = members.find((m) => m.entity_name === 'developer');
    assert.deepEqual(developer && { role_id: developer.role_id, role_name: developer.role_name }, {
      role_id: 2,
      role_name: 'developer',
    });
  });

  it('creates the project robot ci-pipeline for 365 days with push and pull on repository', async () => {
    const before = Date.now();
    const res = expectStatus(
      await admin.post('/robots', {
        name: 'ci-pipeline',
        level: 'project',
        duration: 365,
        permissions: [
          {
            kind: 'project',
            namespace: 'seed',
            access: [
              { resource: 'repository', action: 'push' },
              { resource: 'repository', action: 'pull' },
            ],
          },
        ],
      }),
      201,
    );
    const body = res.body as { id: number; name: string; secret: string; expires_at: number };
    assert.equal(body.name, 'robot$seed+ci-pipeline');
    assert.ok(body.secret.length >= 32, 'a long generated secret');
    const expected = (before + 365 * 86_400_000) / 1000;
    assert.ok(
      Math.abs(body.expires_at - expected) < 120,
      `expires_at ${body.expires_at} is about 365 days ahead`,
    );
    robotName = body.name;
    robotSecret = body.secret;
  });

  it('lets the robot push to the project', async () => {
    await pushImage(berth.base, basic(robotName, robotSecret), 'seed/app', 'v1');
  });

  it('reads the project summary', async () => {
    const summary = expectStatus(await admin.get('/projects/seed/summary'), 200).body as Record<
      string,
      unknown
    >;
    assert.equal(summary.repo_count, 1);
    assert.equal(summary.project_admin_count, 1);
    assert.equal(summary.developer_count, 1);
    const quota = summary.quota as { hard: { storage: number }; used: { storage: number } };
    assert.equal(quota.hard.storage, -1);
    assert.ok(quota.used.storage > 0, 'the pushed image counts (each blob once)');
  });

  it('lists repositories', async () => {
    const res = expectStatus(await admin.get('/projects/seed/repositories'), 200);
    assert.equal(res.headers.get('x-total-count'), '1');
    const repositories = res.body as { name: string; artifact_count: number }[];
    assert.deepEqual(
      repositories.map((r) => [r.name, r.artifact_count]),
      [['seed/app', 1]],
    );
  });

  it('lists artifacts', async () => {
    const res = expectStatus(await admin.get('/projects/seed/repositories/app/artifacts?with_tag=true'), 200);
    const artifacts = res.body as { type: string; tags: { name: string }[]; digest: string }[];
    assert.equal(artifacts.length, 1);
    assert.equal(artifacts[0]!.type, 'IMAGE');
    assert.deepEqual(
      artifacts[0]!.tags.map((t) => t.name),
      ['v1'],
    );
  });

  it('lets the developer read what it was given, and not manage members', async () => {
    const developer = Api.as(berth.base, 'developer', 'Developer123');
    expectStatus(await developer.get('/projects/seed/repositories'), 200);
    expectStatus(
      await developer.post('/projects/seed/members', { role_id: 1, member_user: { username: 'admin' } }),
      403,
    );
  });
});
