import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';

const cli = join('dist', 'src', 'cli', 'main.js');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

describe('berth CLI', () => {
  it('serve honours --port and --data, prints the URL, and stops cleanly on SIGTERM', async () => {
    const data = await mkdtemp(join(tmpdir(), 'berth-cli-'));
    const port = await freePort();
    const child = spawn(process.execPath, [cli, 'serve', '--port', String(port), '--data', data], {
      env: { ...process.env, BERTH_LOG_LEVEL: 'warn', BERTH_HOST: '127.0.0.1' },
    });
    try {
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no start line; output: ${output}`)), 15_000);
        child.stdout.on('data', () => {
          if (output.includes('listening')) {
            clearTimeout(timer);
            resolve();
          }
        });
        child.once('exit', (code) => reject(new Error(`exited early with ${code}`)));
      });
      assert.match(output, new RegExp(`http://127\\.0\\.0\\.1:${port}`));
      // Authentication is on by default: the first start made admin a random password, shown once.
      const password = (await readFile(join(data, 'admin-password'), 'utf8')).trim();
      assert.equal(output.split(password).length, 2, 'the password is printed exactly once');
      const response = await fetch(`http://127.0.0.1:${port}/v2/`);
      assert.equal(response.status, 401);
      assert.match(
        response.headers.get('www-authenticate') ?? '',
        /^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/service\/token"/,
      );
      assert.equal(response.headers.get('docker-distribution-api-version'), 'registry/2.0');
      const authorization = `Basic ${Buffer.from(`admin:${password}`).toString('base64')}`;
      assert.equal(
        (await fetch(`http://127.0.0.1:${port}/v2/`, { headers: { Authorization: authorization } })).status,
        200,
      );
      await stat(join(data, 'metadata', 'berth.db'));
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      child.kill('SIGKILL');
      await rm(data, { recursive: true, force: true });
    }
  });

  it('serve refuses to start on a bad value, naming the key', () => {
    const result = spawnSync(process.execPath, [cli, 'serve'], {
      env: { ...process.env, BERTH_PORT: 'nope' },
      encoding: 'utf8',
    });
    assert.equal(result.status, 2);
    assert.match(result.stderr, /server\.port/);
  });

  it('config check validates a file without starting', () => {
    const ok = spawnSync(process.execPath, [cli, 'config', 'check', 'deploy/berth.yaml'], {
      encoding: 'utf8',
      env: { ...process.env, BERTH_PORT: '' },
    });
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /valid/);
    const bad = spawnSync(process.execPath, [cli, 'config', 'check', 'package.json'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /invalid configuration/);
  });
});
