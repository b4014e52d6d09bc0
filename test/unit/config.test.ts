import assert from 'node:assert/strict';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from '../../src/server/config.js';

async function tempFile(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), 'berth-config-')), 'berth.yaml');
  await writeFile(path, text);
  return path;
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  assert.fail('expected a ConfigError');
}

describe('configuration', () => {
  it('runs on defaults', () => {
    const config = loadConfig();
    assert.equal(config.server.port, 5000);
    assert.equal(config.data, './data');
    assert.equal(config.storage.driver, 'filesystem');
    assert.equal(config.metadata.driver, 'sqlite');
  });

  it('layers file < environment < flags', async () => {
    const file = await tempFile('server:\n  port: 6000\ndata: /srv/file\nlog:\n  level: warn\n');
    const config = loadConfig({
      file,
      env: { BERTH_PORT: '7000', BERTH_DATA: '/srv/env' },
      overrides: [[['data'], '/srv/flag']],
    });
    assert.equal(config.server.port, 7000);
    assert.equal(config.data, '/srv/flag');
    assert.equal(config.log.level, 'warn');
  });

  it('names the key and what was expected for a bad value', async () => {
    const file = await tempFile('server:\n  port: seventy\n');
    const problems = problemsOf(() => loadConfig({ file }));
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /^server\.port: .*number/i);
    assert.match(problemsOf(() => loadConfig({ env: { BERTH_PORT: '70000' } }))[0]!, /^server\.port: /);
    assert.match(problemsOf(() => loadConfig({ env: { BERTH_LOG_LEVEL: 'loud' } }))[0]!, /^log\.level: /);
  });

  it('refuses unknown keys, so typos do not pass silently', async () => {
    const file = await tempFile('sever:\n  port: 5000\n');
    assert.match(problemsOf(() => loadConfig({ file })).join('\n'), /sever/);
  });

  it('reports unreadable and malformed files', async () => {
    assert.match(problemsOf(() => loadConfig({ file: '/nonexistent/berth.yaml' }))[0]!, /cannot read/);
    assert.match(problemsOf(() => loadConfig({ file: '/dev/null/x' }))[0]!, /cannot read/);
    const bad = await tempFile('server: [\n');
    assert.match(problemsOf(() => loadConfig({ file: bad }))[0]!, /not valid YAML/);
  });

  it('loads every example config in deploy/', async () => {
    const files = (await readdir('deploy')).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));
    assert.ok(files.length > 0);
    for (const file of files) assert.doesNotThrow(() => loadConfig({ file: join('deploy', file) }), file);
  });
});
