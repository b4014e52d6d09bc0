// The IAM use cases over a real (SQLite) metadata store, with a fake hasher and a fixed clock: the
// decisions each one makes, independent of HTTP.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { RegistryError } from '../../src/core/errors.js';
import type { User } from '../../src/core/iam/model.js';
import { MemberService } from '../../src/core/iam/members.js';
import { anonymous, type Subject } from '../../src/core/iam/policy.js';
import { ProjectService } from '../../src/core/iam/projects.js';
import { RobotService } from '../../src/core/iam/robots.js';
import { generateSecret, isStrongSecret, requireProjectName } from '../../src/core/iam/rules.js';
import { UserService } from '../../src/core/iam/users.js';
import type { Digest } from '../../src/core/oci/digest.js';
import type { Clock, PasswordHasher } from '../../src/core/ports.js';
import { SqliteMetadataStore } from '../../src/metadata/sqlite/store.js';

const hasher: PasswordHasher = {
  hash: (secret) => Promise.resolve(`fake:${secret}`),
  verify: (hash, secret) => Promise.resolve(hash === `fake:${secret}`),
};

async function rejectsWith(promise: Promise<unknown>, code: string): Promise<RegistryError> {
  try {
    await promise;
  } catch (error) {
    assert.equal((error as RegistryError).code, code, (error as Error).message);
    return error as RegistryError;
  }
  assert.fail(`expected ${code}`);
}

describe('IAM use cases', () => {
  let dir: string;
  let store: SqliteMetadataStore;
  let now = new Date('2025-01-01T00:00:00Z');
  const clock: Clock = { now: () => now };
  let changes = 0;
  const changed = () => void changes++;
  let users: UserService;
  let projects: ProjectService;
  let members: MemberService;
  let robots: RobotService;
  let root: Subject;
  let ann: User;
  let ben: User;
  const as = (user: User): Subject => ({ kind: 'user', user });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-iam-'));
    store = new SqliteMetadataStore(join(dir, 'berth.db'));
    users = new UserService(store, hasher, clock, changed);
    projects = new ProjectService(store, clock, changed);
    members = new MemberService(store, clock, changed);
    robots = new RobotService(store, hasher, clock, changed);
    const created = await store.users.create(
      {
        username: 'root',
        email: '',
        realname: 'Root',
        comment: '',
        sysadmin: true,
        passwordHash: 'fake:Root123456',
      },
      now,
    );
    assert.ok(created.ok);
    root = { kind: 'user', user: created.value };
    ann = await users.create(root, { username: 'ann', email: 'ann@example.com', password: 'Ann1234567' });
    ben = await users.create(root, { username: 'ben', email: 'ben@example.com', password: 'Ben1234567' });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("generates secrets that meet Harbor's rule", () => {
    for (let i = 0; i < 50; i++) {
      const secret = generateSecret();
      assert.equal(secret.length, 32);
      assert.ok(isStrongSecret(secret));
    }
    assert.equal(isStrongSecret('abcdEFG1'), true);
    assert.equal(isStrongSecret('abcdefg1'), false);
    assert.equal(isStrongSecret(`Aa1${'x'.repeat(126)}`), false, 'at most 128 characters');
    assert.equal(requireProjectName('a'.repeat(255)).length, 255);
    assert.throws(() => requireProjectName('a'.repeat(256)));
    assert.throws(() => requireProjectName('a_-b'));
  });

  it('makes the creator of a project its Project Admin, in the same transaction', async () => {
    const project = await projects.create(as(ann), { name: 'annproj' });
    assert.equal(await store.members.roleOf(project.id, ann.id), 1);
    assert.equal(project.public, false);
    await rejectsWith(projects.create(as(ben), { name: 'annproj' }), 'CONFLICT');
    await rejectsWith(projects.create(anonymous, { name: 'anonproj' }), 'UNAUTHORIZED');
    assert.equal(await store.projects.getByName('anonproj'), undefined);
  });

  it('ignores a storage limit from someone who is not a system admin (Harbor)', async () => {
    const mine = await projects.create(as(ben), { name: 'benproj', storageLimit: 10 });
    assert.equal(mine.storageLimit, -1);
    const limited = await projects.create(root, { name: 'limited', storageLimit: 10 });
    assert.equal(limited.storageLimit, 10);
    await rejectsWith(projects.create(root, { name: 'negative', storageLimit: -5 }), 'BAD_REQUEST');
  });

  it('refuses to delete a project while it holds a repository', async () => {
    await projects.create(as(ann), { name: 'full' });
    const digest = `sha256:${'a'.repeat(64)}` as Digest;
    await store.blobLinks.link('full/app', digest, 1);
    await rejectsWith(projects.delete(as(ann), { by: 'name', name: 'full' }), 'PRECONDITION_FAILED');
    await rejectsWith(projects.delete(as(ben), { by: 'name', name: 'full' }), 'DENIED');
    await store.repositories.delete('full/app');
    const before = changes;
    await projects.delete(as(ann), { by: 'name', name: 'full' });
    assert.ok(changes > before, 'a deletion tells the caches');
  });

  it('counts members per role in the summary, and hides them from callers who may not list members', async () => {
    await members.add(as(ann), { by: 'name', name: 'annproj' }, { username: 'ben' }, 5);
    const summary = await projects.summary(as(ann), { by: 'name', name: 'annproj' });
    assert.deepEqual(summary.members, { 1: 1, 2: 0, 3: 0, 4: 0, 5: 1 });
    const limited = await projects.summary(as(ben), { by: 'name', name: 'annproj' });
    assert.equal(limited.members, undefined, 'a Limited Guest may not list members');
  });

  it('computes robot expiry from the clock and the duration', async () => {
    const { robot, secret } = await robots.create(as(ann), {
      name: 'clocked',
      level: 'project',
      duration: 10,
      permissions: [
        { kind: 'project', namespace: 'annproj', access: [{ resource: 'repository', action: 'pull' }] },
      ],
    });
    assert.equal(robot.expiresAt?.toISOString(), '2025-01-11T00:00:00.000Z');
    assert.equal(await store.robots.secretHash(robot.id), `fake:${secret}`);
    now = new Date('2025-01-05T00:00:00Z');
    const updated = await robots.update(as(ann), robot.id, {
      name: robot.name,
      level: 'project',
      duration: 20,
      permissions: robot.permissions,
    });
    assert.equal(updated.expiresAt?.toISOString(), '2025-01-21T00:00:00.000Z', 'counted from creation');
  });

  it('never lets a robot hand out more than its creator holds', async () => {
    const { robot } = await robots.create(as(ann), {
      name: 'delegate',
      level: 'project',
      duration: -1,
      permissions: [
        {
          kind: 'project',
          namespace: 'annproj',
          access: [
            { resource: 'robot', action: 'create' },
            { resource: 'repository', action: 'pull' },
          ],
        },
      ],
    });
    const delegate: Subject = { kind: 'robot', robot };
    const pullOnly = {
      kind: 'project',
      namespace: 'annproj',
      access: [{ resource: 'repository', action: 'pull' }],
    };
    await robots.create(delegate, { name: 'child', level: 'project', duration: 1, permissions: [pullOnly] });
    await rejectsWith(
      robots.create(delegate, {
        name: 'greedy',
        level: 'project',
        duration: 1,
        permissions: [{ ...pullOnly, access: [{ resource: 'repository', action: 'push' }] }],
      }),
      'DENIED',
    );
  });

  it('requires the old password from users changing their own, not from admins', async () => {
    await rejectsWith(users.changePassword(as(ann), ann.id, { newPassword: 'Ann7654321' }), 'DENIED');
    await rejectsWith(
      users.changePassword(as(ann), ann.id, { oldPassword: 'Ann1234567', newPassword: 'Ann1234567' }),
      'BAD_REQUEST',
    );
    await users.changePassword(as(ann), ann.id, { oldPassword: 'Ann1234567', newPassword: 'Ann7654321' });
    assert.equal(await store.users.passwordHash(ann.id), 'fake:Ann7654321');
    await users.changePassword(root, ann.id, { newPassword: 'Reset12345' });
    assert.equal(await store.users.passwordHash(ann.id), 'fake:Reset12345');
    await rejectsWith(
      users.changePassword(as(ben), ann.id, { oldPassword: 'Reset12345', newPassword: 'Ben7654321' }),
      'DENIED',
    );
  });

  it('refuses unknown roles and missing users when adding members', async () => {
    const ref = { by: 'name', name: 'benproj' } as const;
    await rejectsWith(members.add(as(ben), ref, { username: 'ann' }, 6), 'BAD_REQUEST');
    await rejectsWith(members.add(as(ben), ref, {}, 2), 'BAD_REQUEST');
    await rejectsWith(members.add(as(ann), ref, { username: 'root' }, 2), 'DENIED');
    await members.add(as(ben), ref, { userId: ann.id }, 2);
    await rejectsWith(members.add(as(ben), ref, { username: 'ann' }, 3), 'CONFLICT');
  });

  it('lists for a robot only the projects its grants name (plus public ones)', async () => {
    const { robot } = await robots.create(root, {
      name: 'lister',
      level: 'system',
      duration: -1,
      permissions: [
        { kind: 'project', namespace: 'benproj', access: [{ resource: 'repository', action: 'pull' }] },
      ],
    });
    await projects.create(root, { name: 'openproj', public: true });
    const seen = await projects.list({ kind: 'robot', robot }, { offset: 0, limit: 10 });
    assert.deepEqual(
      seen.items.map((d) => d.project.name),
      ['benproj', 'openproj'],
    );
    assert.equal(seen.total, 2);
  });
});
