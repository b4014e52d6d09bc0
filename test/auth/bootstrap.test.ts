import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { systemClock } from '../../src/core/ports.js';
import { bootstrap } from '../../src/server/bootstrap.js';
import { validateConfig } from '../../src/server/config.js';
import { createLogger } from '../../src/server/logger.js';
import { startTestBerth } from '../support/berth.js';
import { basic, v2 } from './fixtures.js';

describe('first start', () => {
  it('creates admin with a random password shown once and saved 0600, and the public project library', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'berth-bootstrap-'));
    try {
      const printed: string[] = [];
      const first = await startTestBerth(
        { auth: { enabled: true } },
        { dataDir, print: (text) => printed.push(text) },
      );
      let password: string;
      try {
        assert.equal(printed.length, 1);
        const file = join(dataDir, 'admin-password');
        password = (await readFile(file, 'utf8')).trim();
        assert.match(password, /^[A-Za-z0-9]{24}$/);
        assert.ok(printed[0]!.includes(password));
        assert.equal((await stat(file)).mode & 0o777, 0o600);
        const admin = await first.metadata.users.getByName('admin');
        assert.equal(admin?.sysadmin, true);
        const library = await first.metadata.projects.getByName('library');
        assert.equal(library?.public, true);
        assert.equal(library?.ownerId, admin?.id);
        assert.equal((await v2(first, '', basic('admin', password))).status, 200);
      } finally {
        await first.stop();
      }
      const again: string[] = [];
      const second = await startTestBerth(
        { auth: { enabled: true } },
        { dataDir, print: (text) => again.push(text) },
      );
      try {
        assert.deepEqual(again, [], 'the password is shown only when admin is created');
        assert.equal((await v2(second, '', basic('admin', password))).status, 200);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it('uses BERTH_ADMIN_PASSWORD when given, and then prints and saves nothing', async () => {
    const printed: string[] = [];
    const berth = await startTestBerth(
      { auth: { enabled: true, adminPassword: 'Ch0senPassword' } },
      { print: (t) => printed.push(t) },
    );
    try {
      assert.deepEqual(printed, []);
      await assert.rejects(stat(join(berth.dataDir, 'admin-password')));
      assert.equal((await v2(berth, '', basic('admin', 'Ch0senPassword'))).status, 200);
    } finally {
      await berth.dispose();
    }
  });

  it('lets one of several nodes starting together create admin; the others do nothing', async () => {
    const berth = await startTestBerth(); // auth off: nothing bootstrapped yet
    try {
      assert.equal(await berth.metadata.users.getByName('admin'), undefined);
      const config = validateConfig({ data: berth.dataDir });
      const printed: string[] = [];
      const logger = createLogger('silent');
      await Promise.all(
        [1, 2, 3].map(() =>
          bootstrap(config, berth.metadata, berth.auth.hasher, systemClock, logger, {
            print: (t) => printed.push(t),
          }),
        ),
      );
      assert.equal(printed.length, 1);
      assert.equal((await berth.metadata.users.list({ offset: 0, limit: 10 })).total, 1);
      assert.ok(await berth.metadata.projects.getByName('library'));
    } finally {
      await berth.dispose();
    }
  });

  it('refuses a weak configured admin password', () => {
    assert.throws(() => validateConfig({ auth: { adminPassword: 'password' } }), /auth\.adminPassword/);
    assert.equal(validateConfig({ auth: { enabled: 'false' } }).auth.enabled, false);
    assert.equal(validateConfig({}).auth.enabled, true);
    assert.throws(() => validateConfig({ auth: { enabled: 'maybe' } }), /auth\.enabled/);
  });
});
