// Security changes made through one node reach the others within the documented bound: every node
// re-reads subjects, roles and projects through 5 s caches (docs/architecture.md, "Re-checked on every
// request"), so a robot disabled, a member removed or a project made private on node a is refused on
// node b within 5 s, for Basic credentials and for tokens issued before the change alike.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Api, basic, createProject, createUser, expectStatus, pushImage } from '../api/support.js';
import { startCluster, type Cluster, type ClusterNode } from '../support/cluster.js';
import { sleep } from '../support/oci-client.js';
import { sharedSetup } from '../support/setup.js';

const adminPassword = 'Admin12345';
const devPassword = 'Dev1234567';
/** The caches' TTL (AccessService, SubjectResolver): the documented bound. */
const ttlMs = 5_000;
/** How long a change may take to reach another node: twice the documented bound, for a loaded machine. */
const giveUpMs = 2 * ttlMs;
const pollMs = 50;

const manifestAccept = 'application/vnd.oci.image.manifest.v1+json';

/** Status of a manifest GET on a node (with `authorization`, or anonymous). */
async function pullStatus(node: ClusterNode, reference: string, authorization?: string): Promise<number> {
  const [repository, tag] = reference.split(':') as [string, string];
  const res = await fetch(`${node.base}/v2/${repository}/manifests/${tag}`, {
    headers: { accept: manifestAccept, ...(authorization !== undefined && { authorization }) },
  });
  await res.arrayBuffer();
  return res.status;
}

/** A pull token from `node`'s /service/token, for the holder of `authorization`. */
async function pullToken(node: ClusterNode, repository: string, authorization: string): Promise<string> {
  const url = `${node.base}/service/token?service=berth&scope=repository:${repository}:pull`;
  const res = await fetch(url, { headers: { authorization } });
  assert.equal(res.status, 200, `token from ${node.name}`);
  const body = (await res.json()) as { token: string; access?: unknown };
  return body.token;
}

interface Probe {
  what: string;
  /** One request on a node; its status. */
  status: (node: ClusterNode) => Promise<number>;
  /** The status once the change is seen. */
  refused: number;
}

describe(
  'cluster: security changes on node a reach node b within the cache TTL',
  { timeout: 120_000 },
  () => {
    let cluster: Cluster;
    let a: ClusterNode, b: ClusterNode, c: ClusterNode;
    let admin: Api;
    let robot: { id: number; name: string; secret: string };
    let memberId: number;
    let robotToken: string, devToken: string;

    const ready = sharedSetup(async () => {
      cluster = await startCluster({ auth: { enabled: true, adminPassword } });
      [a, b, c] = cluster.nodes as [ClusterNode, ClusterNode, ClusterNode];
      admin = Api.as(a.base, 'admin', adminPassword);
    });
    after(async () => {
      await cluster?.dispose();
    });

    it('a robot and a member made on a push and pull on b; anonymous pulls a public project on b', async () => {
      await ready();
      await createProject(admin, 'secure', false);
      await createProject(admin, 'open', true);
      const created = expectStatus(
        await admin.post('/robots', {
          name: 'ci',
          level: 'project',
          duration: -1,
          permissions: [
            {
              kind: 'project',
              namespace: 'secure',
              access: [
                { resource: 'repository', action: 'push' },
                { resource: 'repository', action: 'pull' },
              ],
            },
          ],
        }),
        201,
        'create the robot on a',
      );
      robot = created.body as typeof robot;
      await createUser(admin, 'dev', devPassword);
      const added = expectStatus(
        await admin.post('/projects/secure/members', { role_id: 2, member_user: { username: 'dev' } }),
        201,
        'add dev to secure on a',
      );
      memberId = Number(/\/members\/(\d+)$/.exec(added.headers.get('location') ?? '')?.[1]);
      assert.ok(memberId > 0);

      // The robot pushes through b (a node that never saw it being created) and pulls there.
      const robotAuth = basic(robot.name, robot.secret);
      await pushImage(b.base, robotAuth, 'secure/app', 'v1');
      assert.equal(await pullStatus(b, 'secure/app:v1', robotAuth), 200);
      assert.equal(await pullStatus(c, 'secure/app:v1', robotAuth), 200);
      assert.equal(await pullStatus(b, 'secure/app:v1'), 401, 'the project is private');
      assert.equal(await pullStatus(b, 'secure/app:v1', basic('dev', devPassword)), 200, 'dev pulls on b');
      await pushImage(a.base, cluster.authorization!, 'open/app', 'v1');
      assert.equal(await pullStatus(b, 'open/app:v1'), 200, 'anonymous pull of the public project on b');

      // Tokens issued by a before the changes, used on b.
      robotToken = await pullToken(a, 'secure/app', robotAuth);
      devToken = await pullToken(a, 'secure/app', basic('dev', devPassword));
      assert.equal(await pullStatus(b, 'secure/app:v1', `Bearer ${robotToken}`), 200);
      assert.equal(await pullStatus(b, 'secure/app:v1', `Bearer ${devToken}`), 200);
    });

    it('a disabled robot, a removed member and a project made private are refused on b within 5 s', async () => {
      await ready();
      assert.ok(robotToken !== undefined, 'the previous test set things up');
      const robotAuth = basic(robot.name, robot.secret);
      const pull = (authorization?: string) => (node: ClusterNode) =>
        pullStatus(node, authorization === undefined ? 'open/app:v1' : 'secure/app:v1', authorization);
      const robotProbes: Probe[] = [
        { what: 'robot, Basic on /v2', status: pull(robotAuth), refused: 401 },
        { what: 'robot, token issued before', status: pull(`Bearer ${robotToken}`), refused: 401 },
      ];
      const memberProbes: Probe[] = [
        { what: 'removed member, Basic on /v2', status: pull(basic('dev', devPassword)), refused: 403 },
        { what: 'removed member, token issued before', status: pull(`Bearer ${devToken}`), refused: 403 },
      ];
      const privateProbes: Probe[] = [
        { what: 'anonymous, project made private', status: pull(), refused: 401 },
      ];

      // Every probe succeeds on b right before the changes: b's caches now hold the old state, so what
      // is measured is close to the worst case (a full TTL), not a lucky cache miss.
      for (const probe of [...robotProbes, ...memberProbes, ...privateProbes])
        assert.equal(await probe.status(b), 200, `${probe.what}: accepted on b before the change`);

      const current = expectStatus(await admin.get(`/robots/${robot.id}`), 200).body as Record<
        string,
        unknown
      >;
      const changes: [() => Promise<unknown>, Probe[]][] = [
        [
          async () =>
            expectStatus(await admin.put(`/robots/${robot.id}`, { ...current, disable: true }), 200),
          robotProbes,
        ],
        [
          async () => expectStatus(await admin.delete(`/projects/secure/members/${memberId}`), 200),
          memberProbes,
        ],
        [
          async () => expectStatus(await admin.put('/projects/open', { metadata: { public: 'false' } }), 200),
          privateProbes,
        ],
      ];

      const delays = new Map<string, number>();
      await Promise.all(
        changes.map(async ([change, probes]) => {
          await change(); // on node a
          const since = Date.now();
          await Promise.all(
            probes.map(async (probe) => {
              // Node a dropped its own caches with the write: it refuses at once.
              assert.equal(await probe.status(a), probe.refused, `${probe.what}: refused on a at once`);
              for (;;) {
                const status = await probe.status(b);
                const elapsed = Date.now() - since;
                if (status === probe.refused) return void delays.set(probe.what, elapsed);
                assert.equal(status, 200, `${probe.what}: on b, ${elapsed} ms after the change`);
                assert.ok(elapsed < giveUpMs, `${probe.what}: still accepted on b after ${elapsed} ms`);
                await sleep(pollMs);
              }
            }),
          );
        }),
      );

      const report = [...delays].map(([what, ms]) => `${what}: ${ms} ms`).join('; ');
      console.log(`access propagation a -> b (TTL ${ttlMs} ms): ${report}`);
      // Every change was refused on b before `giveUpMs` (checked in the loop above): the documented bound
      // is the 5 s cache lifetime, far inside the token lifetime the issue allows; the delays are reported,
      // not asserted to the millisecond, since they are wall-clock times on a shared machine.
      assert.equal(delays.size, changes.flatMap(([, probes]) => probes).length);
      // And it stays refused, on every node.
      for (const probe of [...robotProbes, ...memberProbes, ...privateProbes])
        for (const node of [a, b, c])
          assert.equal(
            await probe.status(node),
            probe.refused,
            `${probe.what}: still refused on ${node.name}`,
          );
    });
  },
);
