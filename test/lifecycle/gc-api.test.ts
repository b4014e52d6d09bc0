import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  Api,
  adminPassword,
  createProject,
  createUser,
  expectStatus,
  pushImage,
  startApiBerth,
} from '../api/support.js';

const cli = fileURLToPath(new URL('../../src/cli/main.js', import.meta.url));

function runCli(
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [cli, ...args], { env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      resolve({ code: error === null ? 0 : ((error as { code?: number }).code ?? 1), stdout, stderr }),
    );
  });
}

describe('GC and quota API', () => {
  it('runs GC, shows history, log and schedule to system admins only; sets and reports quotas', async () => {
    const berth = await startApiBerth();
    try {
      const admin = Api.as(berth.base, 'admin', adminPassword);
      await createUser(admin, 'alice', 'Alice12345');
      const alice = Api.as(berth.base, 'alice', 'Alice12345');
      expectStatus(await alice.post('/system/gc/schedule', { schedule: { type: 'Manual' } }), 403);
      expectStatus(await alice.get('/system/gc'), 403);
      expectStatus(await alice.get('/quotas'), 403);

      const started = expectStatus(
        await admin.post('/system/gc/schedule', {
          schedule: { type: 'Manual' },
          parameters: { dry_run: true },
        }),
        201,
      );
      const id = Number(/\/system\/gc\/(\d+)$/.exec(started.headers.get('location') ?? '')?.[1]);
      assert.ok(id > 0);
      let run: { job_status: string; job_parameters: string; result?: Record<string, number> };
      do {
        run = expectStatus(await admin.get(`/system/gc/${id}`), 200).body as typeof run;
      } while (run.job_status === 'Running');
      assert.equal(run.job_status, 'Success');
      assert.deepEqual(JSON.parse(run.job_parameters), { dry_run: true });
      const log = expectStatus(await admin.get(`/system/gc/${id}/log`), 200);
      assert.match(log.text, /gc dry run done/);
      const history = expectStatus(await admin.get('/system/gc?page=1&page_size=5'), 200);
      assert.equal(history.headers.get('x-total-count'), '1');
      expectStatus(await admin.get('/system/gc/999'), 404);

      expectStatus(
        await admin.put('/system/gc/schedule', { schedule: { type: 'Custom', cron: 'nope' } }),
        400,
      );
      expectStatus(
        await admin.put('/system/gc/schedule', {
          schedule: { type: 'Custom', cron: '0 0 3 * * *' },
          parameters: { delete_untagged: true },
        }),
        200,
      );
      const schedule = expectStatus(await admin.get('/system/gc/schedule'), 200).body as {
        schedule: { type: string; cron: string; next_scheduled_time?: string };
        parameters: Record<string, unknown>;
      };
      assert.equal(schedule.schedule.type, 'Custom');
      assert.equal(schedule.schedule.cron, '0 0 3 * * *');
      assert.match(schedule.schedule.next_scheduled_time ?? '', /T03:00:00/);
      assert.deepEqual(schedule.parameters, { delete_untagged: true });

      const projectId = await createProject(admin, 'quota-p');
      const auth = `Basic ${Buffer.from(`admin:${adminPassword}`).toString('base64')}`;
      const image = await pushImage(berth.base, auth, 'quota-p/app', 'v1');
      const quota = expectStatus(await admin.get(`/quotas/${projectId}`), 200).body as {
        hard: { storage: number };
        used: { storage: number };
      };
      assert.deepEqual(quota, { ...quota, hard: { storage: -1 }, used: { storage: image.size } });
      expectStatus(await admin.put(`/quotas/${projectId}`, { hard: { storage: 1024 * 1024 } }), 200);
      const summary = expectStatus(await admin.get(`/projects/${projectId}/summary`), 200).body as {
        quota: { hard: { storage: number }; used: { storage: number } };
      };
      assert.equal(summary.quota.hard.storage, 1024 * 1024);
      assert.equal(summary.quota.used.storage, image.size);
      const list = expectStatus(await admin.get(`/quotas?reference=project&reference_id=${projectId}`), 200);
      assert.equal((list.body as unknown[]).length, 1);

      const result = await runCli(['gc', '--delete-untagged', '--url', berth.base], {
        BERTH_USERNAME: 'admin',
        BERTH_PASSWORD: adminPassword,
      });
      assert.equal(result.code, 0, result.stderr);
      assert.match(result.stdout, /gc run \d+: freed \d+ bytes; \d+ blobs, \d+ manifests/);
    } finally {
      await berth.dispose();
    }
  });
});
