// The Berth vs CNCF Distribution benchmark. `npm run bench [-- --quick]`; see bench/README.md.
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, release } from 'node:os';
import { join } from 'node:path';
import { BlobData } from './blob-data.js';
import { opensslSha256, staticFileCeiling } from './ceilings.js';
import { parseOptions, type Profile } from './options.js';
import { berthLogLevel, repoRoot, resultsDir } from './paths.js';
import {
  ceilingsText,
  headerText,
  scenarioBlock,
  summaryTable,
  type Ceilings,
  type Derived,
  type Environment,
} from './report.js';
import { runGroup, type ScenarioResult } from './runner.js';
import type { ScenarioGroup } from './scenario.js';
import { blobPullGroup, blobPushGroup } from './scenarios/blobs.js';
import { ciMixGroup } from './scenarios/ci-mix.js';
import { imagePushGroup } from './scenarios/image-push.js';
import { catalogGroup, tagListGroup } from './scenarios/listing.js';
import { manifestGroup } from './scenarios/manifests.js';
import { distributionVersion } from './servers.js';
import { fmt, MiB } from './stats.js';

function groups(profile: Profile, data: BlobData): ScenarioGroup[] {
  return [
    ...profile.blobSizes.flatMap((size) => [
      blobPushGroup(profile, data, size, 'monolithic'),
      blobPushGroup(profile, data, size, 'chunked'),
    ]),
    ...profile.blobSizes.map((size) => blobPullGroup(profile, data, size)),
    manifestGroup(profile, data),
    tagListGroup(profile, data),
    catalogGroup(profile, data),
    imagePushGroup(profile, data),
    ciMixGroup(profile, data),
  ];
}

function environment(): Environment {
  const cpuList = cpus();
  const undici = JSON.parse(
    readFileSync(join(repoRoot, 'node_modules', 'undici', 'package.json'), 'utf8'),
  ) as { version: string };
  return {
    node: process.version,
    berthLogLevel,
    distribution: distributionVersion(),
    cpus: `${cpuList.length} x ${cpuList[0]?.model ?? 'unknown CPU'}`,
    kernel: `Linux ${release()}`,
    undici: undici.version,
  };
}

/** The ceilings comparison and Berth's RSS under 16 clients moving 64 MiB blobs. */
function derive(results: ScenarioResult[], ceilings: Ceilings): Derived {
  const lines: string[] = [];
  const values: Record<string, number> = {};
  const find = (name: string) => results.find((r) => r.name === name);
  const pull = find('blob pull 64 MiB x1');
  if (pull !== undefined) {
    for (const server of ['berth', 'distribution'] as const) {
      const share = (100 * pull.servers[server].throughput) / ceilings.staticFile.pullMBps;
      values[`${server}PullPctOfStatic`] = share;
      lines.push(
        `${server === 'berth' ? 'Berth' : 'Distribution'} single-client 64 MiB pull: ${fmt(pull.servers[server].throughput)} MB/s = ${fmt(share)}% of the static file server`,
      );
    }
  }
  for (const mode of ['monolithic', 'chunked'] as const) {
    const push = find(`blob push ${mode} 64 MiB x1`);
    if (push === undefined) continue;
    for (const server of ['berth', 'distribution'] as const) {
      const share = (100 * push.servers[server].throughput) / ceilings.openssl.sha256MBps;
      const ofSink = (100 * push.servers[server].throughput) / ceilings.staticFile.hashingSinkPushMBps;
      values[`${server}Push${mode}PctOfSha256`] = share;
      values[`${server}Push${mode}PctOfHashingSink`] = ofSink;
      lines.push(
        `${server === 'berth' ? 'Berth' : 'Distribution'} single-client 64 MiB ${mode} push: ${fmt(push.servers[server].throughput)} MB/s = ${fmt(share)}% of one core's sha256, ${fmt(ofSink)}% of the hashing upload sink`,
      );
    }
  }
  const heavy = ['blob push monolithic 64 MiB x16', 'blob push chunked 64 MiB x16', 'blob pull 64 MiB x16']
    .map(find)
    .filter((r) => r !== undefined);
  if (heavy.length > 0) {
    const peak = Math.max(...heavy.map((r) => r.servers.berth.peakRssMiB));
    values.berthPeakRssMiB16x64 = peak;
    const parts = heavy
      .map((r) => `${r.name.replace(' 64 MiB x16', '')} ${fmt(r.servers.berth.peakRssMiB)}`)
      .join(', ');
    lines.push(
      `Berth peak RSS with 16 clients pushing/pulling 64 MiB blobs: ${fmt(peak)} MiB (${parts}); target < 200 MiB: ${peak < 200 ? 'met' : 'MISSED'}`,
    );
  }
  return { lines, values };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const profile = options.profile;
  const started = new Date();
  const env = environment();
  const out = (text: string) => process.stdout.write(`${text}\n`);
  const log = (text: string) => process.stderr.write(`${text}\n`);
  out(headerText(profile, env, started));

  log('generating 64 MiB of random bytes; measuring the ceilings (openssl speed, static file server)...');
  const data = new BlobData(64 * MiB);
  const ceilings: Ceilings | undefined = options.ceilings
    ? {
        openssl: await opensslSha256(profile.opensslSeconds),
        staticFile: await staticFileCeiling(data.random, profile.staticPulls),
      }
    : undefined;

  const selected = groups(profile, data).filter(
    (g) => options.only.length === 0 || options.only.some((o) => g.name.includes(o)),
  );
  const results: ScenarioResult[] = [];
  const blocks: string[] = [];
  for (const group of selected) {
    log(`group: ${group.name}`);
    for (const result of await runGroup(group, profile, log)) {
      const block = scenarioBlock(result);
      out(block);
      blocks.push(block);
      results.push(result);
    }
  }

  if (ceilings !== undefined && results.length > 0) {
    // The machine is shared: measure the loopback ceiling again after the scenarios and keep the better one.
    log('measuring the static file server ceiling again...');
    const again = await staticFileCeiling(data.random, profile.staticPulls);
    const first = ceilings.staticFile;
    ceilings.staticFile = again.pullMBps > first.pullMBps ? again : first;
    ceilings.staticFile.runsMBps = [first.pullMBps, again.pullMBps];
  }
  const derived = ceilings === undefined ? { lines: [], values: {} } : derive(results, ceilings);
  const finished = new Date();
  const summary = ['## Summary', '', summaryTable(results), ''].join('\n');
  const seconds = ((finished.getTime() - started.getTime()) / 1000).toFixed(0);
  out(summary);
  const ceilingsSection = ceilings === undefined ? '' : ceilingsText(ceilings, derived);
  out(ceilingsSection);
  out(`Finished in ${seconds} s.`);

  await mkdir(resultsDir, { recursive: true });
  const stamp = started
    .toISOString()
    .replace(/:/g, '-')
    .replace(/\.\d+Z$/, 'Z');
  const base = join(resultsDir, `${stamp}-${profile.name}`);
  const json = {
    started: started.toISOString(),
    finished: finished.toISOString(),
    profile: profile.name,
    rounds: profile.rounds,
    environment: env,
    ceilings,
    derived: derived.values,
    scenarios: results,
  };
  await writeFile(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  const markdown = [
    headerText(profile, env, started),
    summary,
    ceilingsSection,
    '## Scenarios',
    '',
    ...blocks,
    `Finished in ${seconds} s.`,
    '',
  ].join('\n');
  await writeFile(`${base}.md`, markdown);
  log(`results: ${base}.json and ${base}.md`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench: ${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
