// The admin commands (`berth user|project|robot ...`) against a running Berth, through its API.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Api, adminPassword, expectStatus, startApiBerth } from '../api/support.js';
import type { TestBerth } from '../support/berth.js';

const cli = join('dist', 'src', 'cli', 'main.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

describe('berth admin commands', () => {
  let berth: TestBerth;
  let env: NodeJS.ProcessEnv;

  /** Runs the CLI asynchronously (the server lives in this process and must keep answering). */
  function berthCli(args: string[], extraEnv: NodeJS.ProcessEnv = {}): Promise<Run> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [cli, ...args],
        { env: { ...env, ...extraEnv }, timeout: 30_000 },
        (error, stdout, stderr) => {
          const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
          resolve({ code, stdout, stderr });
        },
      );
    });
  }

  async function ok(args: string[], extraEnv?: NodeJS.ProcessEnv): Promise<string> {
    const run = await berthCli(args, extraEnv);
    assert.equal(run.code, 0, `berth ${args.join(' ')}: ${run.stderr}${run.stdout}`);
    return run.stdout;
  }

  before(async () => {
    berth = await startApiBerth();
    env = { ...process.env, BERTH_URL: berth.base, BERTH_USERNAME: 'admin', BERTH_PASSWORD: adminPassword };
  });
  after(() => berth.dispose());

  it('creates and lists users', async () => {
    const out = await ok([
      'user',
      'create',
      'alice',
      '--email',
      'alice@example.com',
      '--user-password',
      'Alice12345',
    ]);
    assert.match(out, /created user alice \(id \d+\)/);
    const generated = JSON.parse(
      await ok(['user', 'create', 'bob', '--email', 'bob@example.com', '--output', 'json']),
    ) as {
      username: string;
      password: string;
    };
    assert.equal(generated.username, 'bob');
    expectStatus(
      await Api.as(berth.base, 'bob', generated.password).get('/users/current'),
      200,
      'the generated password works',
    );
    const users = JSON.parse(await ok(['user', 'list', '--output', 'json'])) as { username: string }[];
    assert.deepEqual(
      users.map((u) => u.username),
      ['admin', 'alice', 'bob'],
    );
    const table = await ok(['user', 'list', '--query', 'ali']);
    assert.match(table.split('\n')[0]!, /^ID\s+USERNAME\s+EMAIL\s+ADMIN/);
    assert.match(table, /alice@example\.com/);
    assert.doesNotMatch(table, /bob/);
  });

  it('creates, lists and deletes projects, with flags overriding the environment', async () => {
    await ok(['project', 'create', 'demo']);
    await ok(
      ['project', 'create', 'alices', '--url', berth.base, '--username', 'alice', '--password', 'Alice12345'],
      {
        BERTH_PASSWORD: 'wrong',
      },
    );
    const mine = JSON.parse(
      await ok(['project', 'list', '-o', 'json'], { BERTH_USERNAME: 'alice', BERTH_PASSWORD: 'Alice12345' }),
    ) as {
      name: string;
      current_user_role_id: number;
    }[];
    assert.deepEqual(
      mine.map((p) => p.name),
      ['alices', 'library'],
    );
    const all = await ok(['project', 'list']);
    assert.match(all, /demo/);
    await ok(['project', 'delete', 'alices']);
    const after = JSON.parse(await ok(['project', 'list', '--output', 'json'])) as { name: string }[];
    assert.ok(!after.some((p) => p.name === 'alices'));
  });

  it('creates a project robot with push and pull whose secret works', async () => {
    const out = await ok([
      'robot',
      'create',
      '--project',
      'demo',
      '--name',
      'ci',
      '--push',
      '--pull',
      '--duration',
      '365',
      '--output',
      'json',
    ]);
    const robot = JSON.parse(out) as { name: string; secret: string; expires_at: number };
    assert.equal(robot.name, 'robot$demo+ci');
    assert.ok(Math.abs(robot.expires_at - (Date.now() / 1000 + 365 * 86400)) < 300);
    const auth = `Basic ${Buffer.from(`${robot.name}:${robot.secret}`).toString('base64')}`;
    const upload = await fetch(new URL('/v2/demo/app/blobs/uploads/', berth.base), {
      method: 'POST',
      headers: { authorization: auth },
    });
    assert.equal(upload.status, 202, 'the robot may push to demo');
    await upload.arrayBuffer();
    const text = await ok(['robot', 'create', '--project', 'demo', '--name', 'reader', '--pull']);
    assert.match(text, /created robot\$demo\+reader/);
    assert.match(text, /secret: \S{32,}/);
    const listed = JSON.parse(await ok(['robot', 'list', '--project', 'demo', '-o', 'json'])) as {
      name: string;
    }[];
    assert.deepEqual(
      listed.map((r) => r.name),
      ['robot$demo+ci', 'robot$demo+reader'],
    );
  });

  it('creates a system robot with --system', async () => {
    const robot = JSON.parse(
      await ok([
        'robot',
        'create',
        '--system',
        '--name',
        'backup',
        '--pull',
        '--duration',
        '-1',
        '-o',
        'json',
      ]),
    ) as {
      id: number;
      name: string;
      expires_at: number;
    };
    assert.equal(robot.name, 'robot$backup');
    assert.equal(robot.expires_at, -1);
    await ok(['robot', 'delete', String(robot.id)]);
  });

  it('changes passwords, for others as admin and for oneself with the old one', async () => {
    await ok(['user', 'passwd', 'alice', '--new-password', 'Alice67890']);
    expectStatus(await Api.as(berth.base, 'alice', 'Alice67890').get('/users/current'), 200);
    await ok(['user', 'passwd', 'alice', '--new-password', 'Alice00000'], {
      BERTH_USERNAME: 'alice',
      BERTH_PASSWORD: 'Alice67890',
    });
    expectStatus(await Api.as(berth.base, 'alice', 'Alice00000').get('/users/current'), 200);
  });

  it('deletes users', async () => {
    await ok(['user', 'delete', 'bob']);
    const users = JSON.parse(await ok(['user', 'list', '-o', 'json'])) as { username: string }[];
    assert.ok(!users.some((u) => u.username === 'bob'));
  });

  it('reports failures on stderr with a non-zero exit code', async () => {
    const denied = await berthCli(['user', 'list'], { BERTH_PASSWORD: 'Wrong12345' });
    assert.equal(denied.code, 1);
    assert.match(denied.stderr, /401/);
    const taken = await berthCli(['project', 'create', 'demo']);
    assert.equal(taken.code, 1);
    assert.match(taken.stderr, /409 \(CONFLICT/);
    const noProject = await berthCli(['robot', 'create', '--name', 'x', '--pull']);
    assert.equal(noProject.code, 1);
    assert.match(noProject.stderr, /exactly one --project/);
    const unreachable = await berthCli(['project', 'list', '--url', 'http://127.0.0.1:1']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /cannot reach/);
  });
});
