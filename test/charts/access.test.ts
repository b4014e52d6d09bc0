// With authentication on, the chart repository edges decide like /v2: repository pull/push/delete in the
// project, from membership roles and robot grants; public projects are readable anonymously; Basic
// credentials (what `helm repo add --username --password` sends) work for users and robots; a missing
// login on a private project gets 401 with a Basic challenge. `berth login` + `berth chart push` go
// through the token flow.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pullChart } from '../../src/cli/charts/oci-chart.js';
import { roles } from '../../src/core/iam/model.js';
import { addMember, addProject, addRobot, addUser, basic, startAuthBerth } from '../auth/fixtures.js';
import type { TestBerth } from '../support/berth.js';
import { chartArchive, clientOf, sha256, uploadChart } from './fixtures.js';

const cli = join(process.cwd(), 'dist/src/cli/main.js');
const password = 'Passw0rdChart';

function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = execFile(process.execPath, [cli, ...args], { env }, (error, stdout, stderr) => {
      done({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : 1, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

describe('chart repository access control', () => {
  let berth: TestBerth;
  const guest = ['chartguest', password] as const;
  const developer = ['chartdev', password] as const;
  const maintainer = ['chartmaint', password] as const;

  before(async () => {
    berth = await startAuthBerth();
    const secret = await addProject(berth, 'secretcharts', false);
    await addProject(berth, 'opencharts', true);
    for (const [name, role] of [
      [guest[0], roles.guest],
      [developer[0], roles.developer],
      [maintainer[0], roles.maintainer],
    ] as const) {
      await addMember(berth, secret, await addUser(berth, name, password), role);
    }
    await addRobot(berth, secret, 'reader', 'R0botSecret', ['pull']);
    await addUser(berth, 'outsider', password);
  });
  after(() => berth.dispose());

  const index = (project: string, authorization?: string) =>
    fetch(`${berth.base}/chartrepo/${project}/index.yaml`, {
      headers: authorization === undefined ? {} : { Authorization: authorization },
    });

  it('asks anonymous callers of a private project for Basic credentials', async () => {
    const response = await index('secretcharts');
    assert.equal(response.status, 401);
    assert.match(response.headers.get('www-authenticate') ?? '', /^Basic realm="berth"/);
    assert.equal(typeof ((await response.json()) as { error: unknown }).error, 'string');
    const api = await fetch(`${berth.base}/api/chartrepo/secretcharts/charts`);
    assert.equal(api.status, 401);
  });

  it('lets members read, developers upload, and only those who may delete overwrite or delete', async () => {
    const archive = await chartArchive('guarded', '1.0.0');
    assert.equal((await index('secretcharts', basic(...guest))).status, 200);
    assert.equal(
      (await uploadChart(berth, 'secretcharts', archive, '', { Authorization: basic(...guest) })).status,
      403,
    );
    assert.equal(
      (await uploadChart(berth, 'secretcharts', archive, '', { Authorization: basic(...developer) })).status,
      201,
    );

    const replacement = await chartArchive('guarded', '1.0.0', 'keywords: [new]\n');
    const conflict = await uploadChart(berth, 'secretcharts', replacement, '?force', {
      Authorization: basic(...developer),
    });
    assert.equal(conflict.status, 409, 'a developer may not overwrite');
    assert.deepEqual(await conflict.json(), { error: 'file already exists' });
    const forced = await uploadChart(berth, 'secretcharts', replacement, '?force', {
      Authorization: basic(...maintainer),
    });
    assert.equal(forced.status, 201);
    const served = await fetch(`${berth.base}/chartrepo/secretcharts/charts/guarded-1.0.0.tgz`, {
      headers: { Authorization: basic(...guest) },
    });
    assert.equal(sha256(Buffer.from(await served.arrayBuffer())), sha256(replacement));

    const url = `${berth.base}/api/chartrepo/secretcharts/charts/guarded/1.0.0`;
    assert.equal(
      (await fetch(url, { method: 'DELETE', headers: { Authorization: basic(...developer) } })).status,
      403,
    );
    assert.equal(
      (await fetch(url, { method: 'DELETE', headers: { Authorization: basic(...maintainer) } })).status,
      200,
    );
  });

  it('accepts robot accounts with Basic and refuses wrong passwords and strangers', async () => {
    assert.equal(
      (await index('secretcharts', basic('robot$secretcharts+reader', 'R0botSecret'))).status,
      200,
    );
    assert.equal((await index('secretcharts', basic(guest[0], 'wrong-password'))).status, 401);
    assert.equal((await index('secretcharts', basic('outsider', password))).status, 403);
    const missing = await index('nosuchproject', basic('outsider', password));
    assert.equal(missing.status, 404);
  });

  it('lets anyone read a public project but not write to it', async () => {
    assert.equal((await index('opencharts')).status, 200);
    const upload = await uploadChart(berth, 'opencharts', await chartArchive('anon', '1.0.0'));
    assert.equal(upload.status, 401);
    assert.match(upload.headers.get('www-authenticate') ?? '', /^Basic /);
  });

  it('berth login stores Docker credentials; berth chart push uses them through the token flow', async () => {
    const dockerConfig = await mkdtemp(join(tmpdir(), 'berth-login-'));
    const env = { ...process.env, DOCKER_CONFIG: dockerConfig };
    const host = `127.0.0.1:${berth.port}`;
    const bad = await runCli(
      ['login', host, '--username', developer[0], '--password-stdin'],
      env,
      'not-it\n',
    );
    assert.equal(bad.code, 1);
    const login = await runCli(
      ['login', host, '--username', developer[0], '--password-stdin'],
      env,
      `${password}\n`,
    );
    assert.equal(login.code, 0, login.stderr);
    assert.match(login.stdout, /Login Succeeded/);
    const config = JSON.parse(await readFile(join(dockerConfig, 'config.json'), 'utf8')) as {
      auths: Record<string, { auth: string }>;
    };
    assert.equal(Buffer.from(config.auths[host]!.auth, 'base64').toString(), `${developer[0]}:${password}`);

    const archive = await chartArchive('viacli', '0.5.0');
    const work = await mkdtemp(join(tmpdir(), 'berth-push-'));
    const file = join(work, 'viacli-0.5.0.tgz');
    await writeFile(file, archive);
    const push = await runCli(['chart', 'push', file, `oci://${host}/secretcharts`], env);
    assert.equal(push.code, 0, push.stderr);
    const anonymous = await runCli(['chart', 'push', file, `oci://${host}/secretcharts`], {
      ...process.env,
      DOCKER_CONFIG: work,
    });
    assert.equal(anonymous.code, 1, 'without stored credentials the push is refused');

    const pulled = await pullChart(
      clientOf(berth, { username: guest[0], password }),
      'secretcharts/viacli',
      '0.5.0',
    );
    assert.equal(sha256(pulled.archive), sha256(archive));
  });
});
