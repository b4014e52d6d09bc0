import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { nextRun, validateCron } from '../../src/jobs/cron.js';
import { Scheduler } from '../../src/jobs/scheduler.js';
import { ManualClock, tempStore } from './support.js';

const start = new Date('2030-01-01T00:01:00Z');

describe('scheduler', () => {
  it('computes the next run of six-field and preset crons in UTC', () => {
    assert.deepEqual(
      nextRun('0 0 * * * *', new Date('2030-01-01T00:30:00Z')),
      new Date('2030-01-01T01:00:00Z'),
    );
    assert.deepEqual(
      nextRun('0 0 0 * * 0', new Date('2030-01-01T00:30:00Z')),
      new Date('2030-01-06T00:00:00Z'),
    );
    assert.deepEqual(
      nextRun('30 */5 * * * *', new Date('2030-01-01T00:00:31Z')),
      new Date('2030-01-01T00:05:30Z'),
    );
    assert.throws(() => validateCron('not a cron'));
    assert.throws(() => validateCron('* *'));
  });

  it('fires a due schedule once, at the cron time of the injected clock', async () => {
    const { store, dispose } = await tempStore();
    const clock = new ManualClock(start);
    const scheduler = new Scheduler(store, clock, { tickMs: 0 });
    let runs = 0;
    scheduler.register({ kind: 'k', run: () => Promise.resolve({ n: ++runs }) });
    try {
      await scheduler.start();
      await scheduler.setSchedule({
        kind: 'k',
        type: 'Custom',
        cron: '0 */5 * * * *',
        parameters: { p: 1 },
        updatedAt: start,
      });
      assert.equal((await scheduler.tick()).length, 0, 'not due at 00:01');
      clock.advance(3 * 60_000); // 00:04
      assert.equal((await scheduler.tick()).length, 0, 'not due at 00:04');
      clock.advance(60_000); // 00:05
      const fired = await scheduler.tick();
      assert.equal(fired.length, 1);
      assert.equal(fired[0]?.trigger, 'Schedule');
      assert.deepEqual(fired[0]?.parameters, { p: 1 });
      await scheduler.idle();
      assert.equal((await scheduler.tick()).length, 0, 'the same firing does not run twice');
      clock.advance(5 * 60_000);
      assert.equal((await scheduler.tick()).length, 1);
      await scheduler.idle();
      assert.equal(runs, 2);
      const history = await store.jobs.listRuns('k', { offset: 0, limit: 10 });
      assert.deepEqual(
        history.items.map((r) => r.status),
        ['Success', 'Success'],
      );
      await scheduler.setSchedule({ kind: 'k', type: 'None', parameters: {}, updatedAt: start });
      clock.advance(60 * 60_000);
      assert.equal((await scheduler.tick()).length, 0, 'None never fires');
    } finally {
      await scheduler.close();
      await dispose();
    }
  });

  it('runs one job of a kind at a time, records errors and stops on request', async () => {
    const { store, dispose } = await tempStore();
    const scheduler = new Scheduler(store, new ManualClock(start), { tickMs: 0 });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    scheduler.register({
      kind: 'slow',
      run: async ({ log }) => {
        log('waiting');
        await gate;
        return { ok: true };
      },
    });
    scheduler.register({ kind: 'fails', run: () => Promise.reject(new Error('boom')) });
    scheduler.register({
      kind: 'stoppable',
      run: ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted')))),
    });
    try {
      const first = await scheduler.trigger('slow', 'Manual', {});
      assert.ok(first.ok);
      assert.deepEqual(await scheduler.trigger('slow', 'Manual', {}), { ok: false, reason: 'running' });
      const other = await scheduler.trigger('fails', 'Manual', {});
      assert.ok(other.ok, 'another kind runs meanwhile');
      assert.equal((await other.done)?.status, 'Error');
      assert.match((await store.jobs.log(other.run.id)) ?? '', /failed: boom/);
      release();
      assert.equal((await first.done)?.status, 'Success');
      assert.match((await store.jobs.log(first.run.id)) ?? '', /waiting/);
      const again = await scheduler.trigger('slow', 'Manual', {});
      assert.ok(again.ok, 'free again after the run ended');
      await again.done;
      const stoppable = await scheduler.trigger('stoppable', 'Manual', {});
      assert.ok(stoppable.ok);
      assert.equal(scheduler.stop(stoppable.run.id), true);
      assert.equal((await stoppable.done)?.status, 'Stopped');
    } finally {
      await scheduler.close();
      await dispose();
    }
  });

  it('marks runs left Running by a dead process Interrupted at start, and runs the kind again', async () => {
    const { store, dispose } = await tempStore();
    const clock = new ManualClock(start);
    try {
      const dead = await store.jobs.createRun({
        kind: 'gc',
        trigger: 'Manual',
        status: 'Running',
        parameters: {},
        at: start,
      });
      const scheduler = new Scheduler(store, clock, { tickMs: 0 });
      scheduler.register({ kind: 'gc', run: () => Promise.resolve({}) });
      await scheduler.start();
      const marked = await store.jobs.getRun(dead.id);
      assert.equal(marked?.status, 'Interrupted');
      assert.ok(marked?.endedAt);
      const rerun = await scheduler.trigger('gc', 'Manual', dead.parameters);
      assert.ok(rerun.ok);
      assert.equal((await rerun.done)?.status, 'Success');
      await scheduler.close();
    } finally {
      await dispose();
    }
  });
});
