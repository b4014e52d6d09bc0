import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Project, Robot, User } from '../../src/core/iam/model.js';
import { roles } from '../../src/core/iam/model.js';
import type { MetadataStore, NewProject, NewRobot, NewUser } from '../../src/core/ports.js';
import type { MetadataHarness } from './metadata-store.contract.js';

const t = (n: number): Date => new Date(1_700_000_000_000 + n * 1000);

function newUser(username: string, extra: Partial<NewUser> = {}): NewUser {
  return {
    username,
    email: `${username}@example.com`,
    realname: `Real ${username}`,
    comment: '',
    sysadmin: false,
    passwordHash: `hash-of-${username}`,
    ...extra,
  };
}

function newProject(name: string, ownerId: number, extra: Partial<NewProject> = {}): NewProject {
  return { name, ownerId, public: false, metadata: {}, storageLimit: -1, ...extra };
}

function newRobot(name: string, extra: Partial<NewRobot> = {}): NewRobot {
  return {
    name,
    description: '',
    level: 'system',
    disabled: false,
    duration: -1,
    permissions: [],
    secretHash: `secret-of-${name}`,
    ...extra,
  };
}

function created<T>(result: { ok: true; value: T } | { ok: false; reason: 'conflict' }): T {
  assert.ok(result.ok, 'expected the create call to succeed');
  return result.value;
}

/**
 * Users, projects, members, robots and settings: the behaviour every MetadataStore must have. Each
 * backend's test file runs it with its own harness, beside `metadataStoreContract`.
 */
export function identityStoreContract(name: string, create: () => Promise<MetadataHarness>): void {
  describe(`MetadataStore identity contract: ${name}`, () => {
    let harness: MetadataHarness;
    let store: MetadataStore;
    before(async () => {
      harness = await create();
      store = harness.store;
    });
    after(async () => harness.dispose());

    const user = async (username: string, extra: Partial<NewUser> = {}): Promise<User> =>
      created(await store.users.create(newUser(username, extra), t(0)));
    const project = async (
      projectName: string,
      ownerId: number,
      extra: Partial<NewProject> = {},
    ): Promise<Project> =>
      created(await store.projects.create(newProject(projectName, ownerId, extra), t(0)));

    it('creates users, refuses a taken username, and reads them by id and name', async () => {
      const result = await store.users.create(
        newUser('alice', { sysadmin: true, comment: 'first', realname: 'Alice A.' }),
        t(1),
      );
      assert.ok(result.ok);
      const alice = result.value;
      assert.equal(typeof alice.id, 'number');
      assert.deepEqual(alice, {
        id: alice.id,
        username: 'alice',
        email: 'alice@example.com',
        realname: 'Alice A.',
        comment: 'first',
        sysadmin: true,
        createdAt: t(1),
        updatedAt: t(1),
      });
      assert.deepEqual(await store.users.create(newUser('alice', { email: 'other@example.com' }), t(2)), {
        ok: false,
        reason: 'conflict',
      });
      assert.deepEqual(await store.users.get(alice.id), alice);
      assert.deepEqual(await store.users.getByName('alice'), alice);
      assert.equal(await store.users.getByName('Alice'), undefined, 'usernames compare exactly');
      assert.equal(await store.users.passwordHash(alice.id), 'hash-of-alice');
      assert.equal(await store.users.get(alice.id + 100_000), undefined);
      assert.equal(await store.users.passwordHash(alice.id + 100_000), undefined);
      const bob = await user('bob');
      assert.notEqual(bob.id, alice.id);
    });

    it('lists users by username with a substring filter, paging and the total', async () => {
      for (const username of ['ulist-c', 'ulist-a', 'ulist-B', 'ulist-b']) await user(username);
      const first = await store.users.list({ offset: 0, limit: 3, q: 'ulist-' });
      assert.equal(first.total, 4);
      assert.deepEqual(
        first.items.map((u) => u.username),
        ['ulist-B', 'ulist-a', 'ulist-b'],
        'byte order',
      );
      assert.deepEqual(
        (await store.users.list({ offset: 3, limit: 3, q: 'ulist-' })).items.map((u) => u.username),
        ['ulist-c'],
      );
      assert.deepEqual(await store.users.list({ offset: 0, limit: 3, q: 'ulist-z' }), {
        items: [],
        total: 0,
      });
      assert.deepEqual(
        (await store.users.list({ offset: 0, limit: 10, q: '%' })).items,
        [],
        'LIKE wildcards are literal',
      );
      const everyone = await store.users.list({ offset: 0, limit: 1000 });
      assert.ok(everyone.total >= 4);
      assert.equal(everyone.items.length, everyone.total);
      const names = everyone.items.map((u) => u.username);
      assert.deepEqual(names, [...names].sort());
    });

    it('updates the given fields of a user only', async () => {
      const carol = await user('carol');
      const updated = await store.users.update(carol.id, { email: 'c@example.org', sysadmin: true }, t(5));
      assert.deepEqual(updated, { ...carol, email: 'c@example.org', sysadmin: true, updatedAt: t(5) });
      assert.deepEqual(await store.users.get(carol.id), updated);
      assert.equal(await store.users.passwordHash(carol.id), 'hash-of-carol');
      const again = await store.users.update(
        carol.id,
        { passwordHash: 'new-hash', realname: 'Carol C.', comment: 'c', sysadmin: false },
        t(6),
      );
      assert.deepEqual(again, {
        ...carol,
        email: 'c@example.org',
        realname: 'Carol C.',
        comment: 'c',
        sysadmin: false,
        updatedAt: t(6),
      });
      assert.equal(await store.users.passwordHash(carol.id), 'new-hash');
      assert.deepEqual(await store.users.update(carol.id, {}, t(7)), { ...again, updatedAt: t(7) });
      assert.equal(await store.users.update(carol.id + 100_000, { email: 'x' }, t(7)), undefined);
    });

    it('deletes a user with its memberships', async () => {
      const owner = await user('del-owner');
      const dave = await user('dave');
      const p = await project('del-user-project', owner.id);
      const membership = created(await store.members.add(p.id, dave.id, roles.developer));
      created(await store.members.add(p.id, owner.id, roles.projectAdmin));
      assert.equal(await store.users.delete(dave.id), true);
      assert.equal(await store.users.delete(dave.id), false);
      assert.equal(await store.users.get(dave.id), undefined);
      assert.equal(await store.users.getByName('dave'), undefined);
      assert.equal(await store.members.get(p.id, membership.id), undefined);
      assert.equal(await store.members.roleOf(p.id, dave.id), undefined);
      assert.deepEqual(
        (await store.members.list(p.id)).map((m) => m.username),
        ['del-owner'],
      );
      // The name is free again, under a new id.
      const again = await user('dave');
      assert.notEqual(again.id, dave.id);
      assert.equal(await store.members.roleOf(p.id, again.id), undefined);
    });

    it('creates projects, refuses a taken name, and reads them by id and name', async () => {
      const owner = await user('p-owner');
      const result = await store.projects.create(
        newProject('library', owner.id, {
          public: true,
          metadata: { public: 'true', auto_scan: 'false' },
          storageLimit: 1_099_511_627_776,
        }),
        t(3),
      );
      assert.ok(result.ok);
      const library = result.value;
      assert.deepEqual(library, {
        id: library.id,
        name: 'library',
        ownerId: owner.id,
        public: true,
        metadata: { public: 'true', auto_scan: 'false' },
        storageLimit: 1_099_511_627_776,
        createdAt: t(3),
        updatedAt: t(3),
      });
      assert.deepEqual(await store.projects.create(newProject('library', owner.id), t(4)), {
        ok: false,
        reason: 'conflict',
      });
      assert.deepEqual(await store.projects.get(library.id), library);
      assert.deepEqual(await store.projects.getByName('library'), library);
      assert.equal(await store.projects.getByName('Library'), undefined);
      assert.equal(await store.projects.get(library.id + 100_000), undefined);
    });

    it('lists projects by name, filtered by exact name, substring, public and visibility, with totals', async () => {
      const owner = await user('pl-owner');
      const member = await user('pl-member');
      const stranger = await user('pl-stranger');
      const pub = await project('plist-pub', owner.id, { public: true });
      const priv = await project('plist-priv', owner.id);
      const mine = await project('plist-mine', owner.id);
      await project('plist-other', owner.id);
      created(await store.members.add(mine.id, member.id, roles.guest));
      const names = async (query: Parameters<MetadataStore['projects']['list']>[0]) => {
        const result = await store.projects.list(query);
        return { names: result.items.map((p) => p.name), total: result.total };
      };
      assert.deepEqual(await names({ offset: 0, limit: 10, q: 'plist-' }), {
        names: ['plist-mine', 'plist-other', 'plist-priv', 'plist-pub'],
        total: 4,
      });
      assert.deepEqual(await names({ offset: 1, limit: 2, q: 'plist-' }), {
        names: ['plist-other', 'plist-priv'],
        total: 4,
      });
      assert.deepEqual(await names({ offset: 0, limit: 10, name: 'plist-priv' }), {
        names: ['plist-priv'],
        total: 1,
      });
      assert.deepEqual(await names({ offset: 0, limit: 10, name: 'plist-' }), { names: [], total: 0 });
      assert.deepEqual(await names({ offset: 0, limit: 10, q: 'plist-', public: true }), {
        names: ['plist-pub'],
        total: 1,
      });
      assert.deepEqual(await names({ offset: 0, limit: 10, q: 'plist-', public: false }), {
        names: ['plist-mine', 'plist-other', 'plist-priv'],
        total: 3,
      });
      assert.deepEqual(await names({ offset: 0, limit: 10, q: 'plist-', visibleTo: member.id }), {
        names: ['plist-mine', 'plist-pub'],
        total: 2,
      });
      assert.deepEqual(await names({ offset: 0, limit: 10, q: 'plist-', visibleTo: stranger.id }), {
        names: ['plist-pub'],
        total: 1,
      });
      assert.deepEqual(
        await names({ offset: 0, limit: 10, q: 'plist-', visibleTo: member.id, public: false }),
        {
          names: ['plist-mine'],
          total: 1,
        },
      );
      assert.deepEqual(await names({ offset: 0, limit: 10, q: '_' }), { names: [], total: 0 });
      assert.deepEqual((await store.projects.list({ offset: 0, limit: 1, name: 'plist-pub' })).items, [pub]);
      assert.deepEqual((await store.projects.list({ offset: 0, limit: 1, name: 'plist-priv' })).items, [
        priv,
      ]);
    });

    it('updates a project, merging metadata keys', async () => {
      const owner = await user('pu-owner');
      const p = await project('pupdate', owner.id, { metadata: { a: '1', b: '2' } });
      const updated = await store.projects.update(p.id, { metadata: { b: '3', c: '4' } }, t(8));
      assert.deepEqual(updated, { ...p, metadata: { a: '1', b: '3', c: '4' }, updatedAt: t(8) });
      const again = await store.projects.update(p.id, { public: true, storageLimit: 1024 }, t(9));
      assert.deepEqual(again, {
        ...p,
        public: true,
        storageLimit: 1024,
        metadata: { a: '1', b: '3', c: '4' },
        updatedAt: t(9),
      });
      assert.deepEqual(await store.projects.get(p.id), again);
      assert.deepEqual(await store.projects.update(p.id, { public: false, metadata: {} }, t(10)), {
        ...again,
        public: false,
        updatedAt: t(10),
      });
      assert.equal(await store.projects.update(p.id + 100_000, { public: true }, t(9)), undefined);
    });

    it('deletes a project with its members and robots', async () => {
      const owner = await user('pd-owner');
      const p = await project('pdelete', owner.id);
      const keep = await project('pdelete-keep', owner.id);
      const membership = created(await store.members.add(p.id, owner.id, roles.projectAdmin));
      created(await store.members.add(keep.id, owner.id, roles.projectAdmin));
      const robot = created(
        await store.robots.create(newRobot('robot$pdelete+ci', { level: 'project', projectId: p.id }), t(0)),
      );
      const other = created(
        await store.robots.create(
          newRobot('robot$pdelete-keep+ci', { level: 'project', projectId: keep.id }),
          t(0),
        ),
      );
      const system = created(await store.robots.create(newRobot('robot$pdelete-system'), t(0)));
      assert.equal(await store.projects.delete(p.id), true);
      assert.equal(await store.projects.delete(p.id), false);
      assert.equal(await store.projects.get(p.id), undefined);
      assert.equal(await store.projects.getByName('pdelete'), undefined);
      assert.deepEqual(await store.members.list(p.id), []);
      assert.equal(await store.members.get(p.id, membership.id), undefined);
      assert.equal(await store.members.roleOf(p.id, owner.id), undefined);
      assert.equal(await store.robots.get(robot.id), undefined);
      assert.equal(await store.robots.getByName('robot$pdelete+ci'), undefined);
      assert.deepEqual(await store.robots.list({ offset: 0, limit: 10, projectId: p.id }), {
        items: [],
        total: 0,
      });
      // Nothing else goes with it.
      assert.deepEqual(await store.robots.get(other.id), other);
      assert.deepEqual(await store.robots.get(system.id), system);
      assert.equal(await store.members.roleOf(keep.id, owner.id), roles.projectAdmin);
      assert.notEqual(await store.users.get(owner.id), undefined);
    });

    it('adds, lists, finds, updates and removes members', async () => {
      const owner = await user('m-owner');
      const zed = await user('m-zed');
      const amy = await user('m-amy');
      const p = await project('members', owner.id);
      const other = await project('members-other', owner.id);
      const result = await store.members.add(p.id, zed.id, roles.developer);
      assert.ok(result.ok);
      const zedMember = result.value;
      assert.deepEqual(zedMember, {
        id: zedMember.id,
        projectId: p.id,
        userId: zed.id,
        username: 'm-zed',
        roleId: roles.developer,
      });
      assert.deepEqual(await store.members.add(p.id, zed.id, roles.guest), { ok: false, reason: 'conflict' });
      assert.equal(await store.members.roleOf(p.id, zed.id), roles.developer, 'a conflict changes nothing');
      const amyMember = created(await store.members.add(p.id, amy.id, roles.maintainer));
      const ownerMember = created(await store.members.add(p.id, owner.id, roles.projectAdmin));
      created(await store.members.add(other.id, amy.id, roles.limitedGuest));

      assert.deepEqual(await store.members.list(p.id), [amyMember, ownerMember, zedMember]);
      assert.deepEqual(await store.members.list(p.id, {}), [amyMember, ownerMember, zedMember]);
      assert.deepEqual(await store.members.list(p.id, { entityName: 'z' }), [zedMember]);
      assert.deepEqual(await store.members.list(p.id, { entityName: 'm-' }), [
        amyMember,
        ownerMember,
        zedMember,
      ]);
      assert.deepEqual(await store.members.list(p.id, { entityName: 'nobody' }), []);
      assert.deepEqual(await store.members.list(p.id, { entityName: '_' }), []);
      assert.deepEqual(await store.members.get(p.id, amyMember.id), amyMember);
      assert.equal(
        await store.members.get(other.id, amyMember.id),
        undefined,
        'a member id belongs to its project',
      );
      assert.equal(await store.members.roleOf(p.id, amy.id), roles.maintainer);
      assert.equal(await store.members.roleOf(other.id, amy.id), roles.limitedGuest);
      assert.equal(await store.members.roleOf(other.id, zed.id), undefined);

      assert.equal(await store.members.update(p.id, amyMember.id, roles.guest), true);
      assert.deepEqual(await store.members.get(p.id, amyMember.id), { ...amyMember, roleId: roles.guest });
      assert.equal(await store.members.update(other.id, zedMember.id, roles.guest), false);
      assert.equal(await store.members.update(p.id, zedMember.id + 100_000, roles.guest), false);

      assert.equal(await store.members.remove(other.id, zedMember.id), false);
      assert.equal(await store.members.remove(p.id, zedMember.id), true);
      assert.equal(await store.members.remove(p.id, zedMember.id), false);
      assert.equal(await store.members.roleOf(p.id, zed.id), undefined);
      assert.deepEqual(
        (await store.members.list(p.id)).map((m) => m.username),
        ['m-amy', 'm-owner'],
      );
      // Removed, the user can be added again.
      assert.equal(created(await store.members.add(p.id, zed.id, roles.guest)).roleId, roles.guest);
    });

    it('creates robots, refuses a taken name, and reads them by id and name', async () => {
      const owner = await user('r-owner');
      const p = await project('robots', owner.id);
      const permissions: Robot['permissions'] = [
        {
          kind: 'project',
          namespace: 'robots',
          access: [
            { resource: 'repository', action: 'pull' },
            { resource: 'repository', action: 'push', effect: 'allow' },
          ],
        },
      ];
      const result = await store.robots.create(
        newRobot('robot$robots+ci', {
          description: 'CI pushes',
          level: 'project',
          projectId: p.id,
          duration: 30,
          expiresAt: t(30),
          permissions,
        }),
        t(2),
      );
      assert.ok(result.ok);
      const ci = result.value;
      assert.deepEqual(ci, {
        id: ci.id,
        name: 'robot$robots+ci',
        description: 'CI pushes',
        level: 'project',
        projectId: p.id,
        disabled: false,
        duration: 30,
        expiresAt: t(30),
        permissions,
        createdAt: t(2),
        updatedAt: t(2),
      });
      assert.deepEqual(await store.robots.create(newRobot('robot$robots+ci'), t(3)), {
        ok: false,
        reason: 'conflict',
      });
      assert.deepEqual(await store.robots.get(ci.id), ci);
      assert.deepEqual(await store.robots.getByName('robot$robots+ci'), ci);
      assert.equal(await store.robots.secretHash(ci.id), 'secret-of-robot$robots+ci');
      assert.equal(await store.robots.get(ci.id + 100_000), undefined);
      assert.equal(await store.robots.secretHash(ci.id + 100_000), undefined);

      const system = created(
        await store.robots.create(newRobot('robot$robots-admin', { disabled: true }), t(4)),
      );
      assert.deepEqual(system, {
        id: system.id,
        name: 'robot$robots-admin',
        description: '',
        level: 'system',
        disabled: true,
        duration: -1,
        permissions: [],
        createdAt: t(4),
        updatedAt: t(4),
      });
      assert.ok(!('projectId' in system) && !('expiresAt' in system), 'absent, not undefined-valued');
    });

    it('lists robots by name, filtered by project, level and substring, with totals', async () => {
      const owner = await user('rl-owner');
      const a = await project('rlist-a', owner.id);
      const b = await project('rlist-b', owner.id);
      for (const [robotName, projectId] of [
        ['robot$rlist-a+two', a.id],
        ['robot$rlist-a+one', a.id],
        ['robot$rlist-b+one', b.id],
      ] as const)
        created(await store.robots.create(newRobot(robotName, { level: 'project', projectId }), t(0)));
      created(await store.robots.create(newRobot('robot$rlist-sys'), t(0)));
      const names = async (query: Parameters<MetadataStore['robots']['list']>[0]) => {
        const result = await store.robots.list(query);
        return { names: result.items.map((r) => r.name), total: result.total };
      };
      assert.deepEqual(await names({ offset: 0, limit: 10, q: 'rlist' }), {
        names: ['robot$rlist-a+one', 'robot$rlist-a+two', 'robot$rlist-b+one', 'robot$rlist-sys'],
        total: 4,
      });
      assert.deepEqual(await names({ offset: 1, limit: 2, q: 'rlist' }), {
        names: ['robot$rlist-a+two', 'robot$rlist-b+one'],
        total: 4,
      });
      assert.deepEqual(await names({ offset: 0, limit: 10, projectId: a.id }), {
        names: ['robot$rlist-a+one', 'robot$rlist-a+two'],
        total: 2,
      });
      assert.deepEqual(await names({ offset: 0, limit: 1, projectId: a.id, q: 'two' }), {
        names: ['robot$rlist-a+two'],
        total: 1,
      });
      assert.deepEqual(await names({ offset: 0, limit: 10, level: 'system', q: 'rlist' }), {
        names: ['robot$rlist-sys'],
        total: 1,
      });
      assert.deepEqual(await names({ offset: 0, limit: 10, level: 'project', q: '+one' }), {
        names: ['robot$rlist-a+one', 'robot$rlist-b+one'],
        total: 2,
      });
      assert.deepEqual(await names({ offset: 0, limit: 10, q: 'rlist_' }), { names: [], total: 0 });
    });

    it('updates robots, and clears the expiry with expiresAt: null', async () => {
      const robot = created(
        await store.robots.create(newRobot('robot$rupdate', { duration: 7, expiresAt: t(7) }), t(0)),
      );
      const permissions: Robot['permissions'] = [
        { kind: 'system', namespace: '/', access: [{ resource: 'project', action: 'list' }] },
      ];
      const updated = await store.robots.update(
        robot.id,
        { description: 'now described', disabled: true, permissions, secretHash: 'rotated' },
        t(1),
      );
      assert.deepEqual(updated, {
        ...robot,
        description: 'now described',
        disabled: true,
        permissions,
        updatedAt: t(1),
      });
      assert.equal(await store.robots.secretHash(robot.id), 'rotated');
      const extended = await store.robots.update(robot.id, { duration: 30, expiresAt: t(30) }, t(2));
      assert.deepEqual(extended, { ...updated, duration: 30, expiresAt: t(30), updatedAt: t(2) });
      const forever = await store.robots.update(robot.id, { duration: -1, expiresAt: null }, t(3));
      const withoutExpiry: Partial<Robot> = { ...extended };
      delete withoutExpiry.expiresAt;
      assert.deepEqual(forever, { ...withoutExpiry, duration: -1, updatedAt: t(3) });
      assert.ok(forever !== undefined && !('expiresAt' in forever));
      assert.deepEqual(await store.robots.get(robot.id), forever);
      assert.deepEqual(await store.robots.update(robot.id, { disabled: false }, t(4)), {
        ...forever,
        disabled: false,
        updatedAt: t(4),
      });
      assert.equal(await store.robots.update(robot.id + 100_000, { disabled: true }, t(4)), undefined);
      assert.equal(await store.robots.delete(robot.id), true);
      assert.equal(await store.robots.delete(robot.id), false);
      assert.equal(await store.robots.get(robot.id), undefined);
    });

    it('keeps settings: the first putIfAbsent wins, put overwrites', async () => {
      assert.equal(await store.settings.get('s-key'), undefined);
      assert.equal(await store.settings.putIfAbsent('s-key', 'first'), 'first');
      assert.equal(await store.settings.putIfAbsent('s-key', 'second'), 'first');
      assert.equal(await store.settings.get('s-key'), 'first');
      await store.settings.put('s-key', 'third');
      assert.equal(await store.settings.get('s-key'), 'third');
      await store.settings.put('s-new', 'x');
      assert.equal(await store.settings.get('s-new'), 'x');
      assert.equal(await store.settings.get('S-KEY'), undefined);
    });

    it('lets exactly one of racing putIfAbsent calls win, and tells every caller its value', async () => {
      const values = Array.from({ length: 10 }, (_, i) => `value-${i}`);
      const results = await Promise.all(values.map((value) => store.settings.putIfAbsent('s-race', value)));
      const stored = await store.settings.get('s-race');
      assert.ok(stored !== undefined && values.includes(stored));
      assert.deepEqual(
        results,
        values.map(() => stored),
      );
    });

    it('runs identity writes in transactions: a conflict inside keeps it usable, a throw rolls all back', async () => {
      await assert.rejects(
        store.transaction(async (tx) => {
          const eve = created(await tx.users.create(newUser('tx-eve'), t(0)));
          const p = created(await tx.projects.create(newProject('tx-project', eve.id), t(0)));
          created(await tx.members.add(p.id, eve.id, roles.projectAdmin));
          await tx.settings.put('tx-setting', 'x');
          throw new Error('undo');
        }),
        /undo/,
      );
      assert.equal(await store.users.getByName('tx-eve'), undefined);
      assert.equal(await store.projects.getByName('tx-project'), undefined);
      assert.equal(await store.settings.get('tx-setting'), undefined);

      await user('tx-taken');
      const made = await store.transaction(async (tx) => {
        assert.deepEqual(await tx.users.create(newUser('tx-taken'), t(0)), { ok: false, reason: 'conflict' });
        const frank = created(await tx.users.create(newUser('tx-frank'), t(0)));
        const p = created(await tx.projects.create(newProject('tx-project', frank.id), t(0)));
        assert.deepEqual(await tx.projects.create(newProject('tx-project', frank.id), t(0)), {
          ok: false,
          reason: 'conflict',
        });
        created(await tx.members.add(p.id, frank.id, roles.projectAdmin));
        assert.deepEqual(await tx.members.add(p.id, frank.id, roles.guest), {
          ok: false,
          reason: 'conflict',
        });
        assert.equal(await tx.settings.putIfAbsent('tx-setting', 'y'), 'y');
        return { frank, p };
      });
      assert.deepEqual(await store.users.getByName('tx-frank'), made.frank);
      assert.equal(await store.members.roleOf(made.p.id, made.frank.id), roles.projectAdmin);
      assert.equal(await store.settings.get('tx-setting'), 'y');
    });
  });
}
