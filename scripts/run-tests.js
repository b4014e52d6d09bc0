// Runs every compiled test file under dist/test with Node's test runner, after making sure the services
// the tests need are up: PostgreSQL (started if it is installed but down) and an S3 server (started with
// ../shared/services/s3-server.sh when S3_ENDPOINT is not already set, and stopped again at the end).
// Usage: node scripts/run-tests.js [substring...]  (only files whose path contains one of the substrings)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';

function find(dir) {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (statSync(path).isDirectory()) return find(path);
    return path.endsWith('.test.js') ? [path] : [];
  });
}

function ensurePostgres() {
  if (process.env.BERTH_TEST_POSTGRES_URL) return;
  const ready = spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']);
  if (ready.status === 0 || !existsSync('/etc/postgresql')) return; // absent: the tests say so and fail
  const version = readdirSync('/etc/postgresql')[0];
  console.log(`starting PostgreSQL ${version}`);
  spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', 'start'], { stdio: 'inherit' });
}

const s3Script = resolve('..', 'shared', 'services', 's3-server.sh');
const s3Data = resolve('.s3data');
let startedS3 = false;

function ensureS3() {
  if (process.env.S3_ENDPOINT || !existsSync(s3Script)) return; // absent: the S3 tests say so and fail
  const port = process.env.BERTH_TEST_S3_PORT ?? '8380';
  console.log(`starting the S3 test server on 127.0.0.1:${port} (data in ${s3Data})`);
  const output = execFileSync('bash', [s3Script, 'start', s3Data, port], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  for (const line of output.split('\n')) {
    const match = /^(S3_[A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) process.env[match[1]] = match[2].replace(/^'(.*)'$/, '$1');
  }
  startedS3 = true;
}

const filters = process.argv.slice(2);
const files = find('dist/test')
  .filter((file) => filters.length === 0 || filters.some((f) => file.includes(f)))
  .sort();
if (files.length === 0) {
  console.error('no test files matched');
  process.exit(1);
}
const needs = (words) => files.some((file) => words.some((word) => file.includes(word)));
if (needs(['postgres', 'cluster'])) ensurePostgres();
if (needs(['s3', 'cluster'])) ensureS3();

const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...files], {
  stdio: 'inherit',
});
if (startedS3) spawnSync('bash', [s3Script, 'stop', s3Data], { stdio: 'inherit' });
process.exit(result.status ?? 1);
