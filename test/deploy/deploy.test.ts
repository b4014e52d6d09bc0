// What can be checked of deploy/ without a container engine or helm: every YAML parses, the cluster config
// and the chart's config block pass Berth's own validation, the compose file and the chart refer only to
// things that exist, and the Dockerfile runs a file the build produces.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { environmentKeys, loadConfig, validateConfig } from '../../src/server/config.js';

const chart = join('deploy', 'helm', 'berth');
const composeFile = join('deploy', 'compose', 'compose.yaml');
const clusterConfig = join('deploy', 'berth-cluster.yaml');
/** Where the image expects its config, and the command it runs. */
const configPath = '/etc/berth/berth.yaml';
const entry = 'dist/src/cli/main.js';

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

const read = (path: string) => readFileSync(path, 'utf8');
const yamlOf = (path: string) => parse(read(path), { merge: true }) as Record<string, unknown>;
const isTemplate = (path: string) => path.startsWith(join(chart, 'templates') + '/');

type Tree = Record<string, unknown>;
const asTree = (value: unknown): Tree => (value ?? {}) as Tree;

describe('deploy/', () => {
  it('every YAML file parses (Helm templates aside: they are Go templates)', () => {
    const yamls = files('deploy').filter((f) => /\.ya?ml$/.test(f) && !isTemplate(f));
    assert.ok(yamls.length >= 5, yamls.join(', '));
    for (const file of yamls) {
      for (const document of parseAllDocuments(read(file), { merge: true })) {
        assert.deepEqual(
          document.errors.map((e) => e.message),
          [],
          `${file} parses`,
        );
      }
    }
  });

  it('berth-cluster.yaml is a valid cluster config (S3 + PostgreSQL), its secret from the environment', () => {
    const config = loadConfig({ file: clusterConfig });
    assert.equal(config.storage.driver, 's3');
    assert.equal(config.metadata.driver, 'postgres');
    assert.equal(config.server.host, '0.0.0.0', 'reachable from outside its container');
    const url = 'postgres://berth:secret@db:5432/berth';
    const withSecret = loadConfig({ file: clusterConfig, env: { BERTH_METADATA_URL: url } });
    assert.ok(withSecret.metadata.driver === 'postgres' && withSecret.metadata.url === url);
    const placeholder = config.metadata.driver === 'postgres' ? new URL(config.metadata.url) : undefined;
    assert.equal(placeholder?.password, '', 'no password written in the file');
  });

  it('the Dockerfile builds in two stages and runs the entry point the build produces, unprivileged', () => {
    const text = read(join('deploy', 'Dockerfile')).replace(/\\\n/g, ' ');
    const lines = text.split('\n').filter((line) => !line.startsWith('#'));
    const instructions = (name: string) =>
      lines.filter((l) => l.startsWith(`${name} `)).map((l) => l.slice(name.length + 1).trim());
    assert.equal(instructions('FROM').length, 2, 'a build stage and a runtime stage');
    assert.match(read(join('deploy', 'Dockerfile')), /^ARG NODE_IMAGE=node:20[-\w]*$/m);
    assert.ok(instructions('RUN').some((r) => r.includes('npm ci')));
    assert.ok(instructions('RUN').some((r) => r.includes('npx tsc -p tsconfig.json')));
    assert.ok(instructions('RUN').some((r) => r.includes('npm prune --omit=dev')));

    const cmd = JSON.parse(instructions('CMD')[0]!) as string[];
    assert.deepEqual(cmd, ['node', entry, 'serve', '--config', configPath]);
    // The same `tsc -p tsconfig.json` (npm run build) produced dist/ for this test run.
    assert.ok(existsSync(entry), `${entry} is what the build produces`);
    assert.ok(instructions('COPY').includes('--from=build /app/dist/src ./dist/src'));
    for (const copy of instructions('COPY').filter((c) => !c.startsWith('--from'))) {
      for (const source of copy.split(/\s+/).slice(0, -1)) assert.ok(existsSync(source), `COPY ${source}`);
    }
    const user = instructions('USER')[0] ?? 'root';
    assert.doesNotMatch(user, /^(root|0)(:|$)/, 'runs as a non-root user');
    assert.deepEqual(instructions('EXPOSE'), ['5000']);
    assert.match(instructions('HEALTHCHECK')[0] ?? '', /\/health/);
    // The build context lets in what the COPY lines need.
    const ignore = read(join('deploy', 'Dockerfile.dockerignore'));
    for (const needed of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'src/**',
      'deploy/berth.yaml',
    ]) {
      assert.ok(ignore.includes(`!${needed}`), `Dockerfile.dockerignore lets ${needed} in`);
    }
  });

  it('the compose file names only services, volumes, files and settings that exist', () => {
    const compose = yamlOf(composeFile);
    const here = dirname(composeFile);
    for (const key of Object.keys(compose)) {
      assert.ok(
        ['name', 'services', 'volumes', 'networks', 'configs', 'secrets'].includes(key) ||
          key.startsWith('x-'),
        key,
      );
    }
    const services = asTree(compose.services);
    const volumes = asTree(compose.volumes);
    const serviceKeys = new Set(
      (
        'build image restart depends_on environment volumes ports command entrypoint healthcheck ' +
        'user working_dir networks'
      ).split(' '),
    );
    const published: string[] = [];
    for (const [name, raw] of Object.entries(services)) {
      const service = asTree(raw);
      for (const key of Object.keys(service)) assert.ok(serviceKeys.has(key), `${name}: unknown key ${key}`);
      assert.ok(service.image !== undefined || service.build !== undefined, `${name} has an image`);
      for (const dependency of Object.keys(asTree(service.depends_on))) {
        assert.ok(dependency in services, `${name} depends on ${dependency}, which is not a service`);
      }
      for (const mount of (service.volumes ?? []) as string[]) {
        const [source] = mount.split(':');
        if (source!.startsWith('.') || source!.startsWith('/')) {
          assert.ok(existsSync(resolve(here, source!)), `${name} mounts ${source}, which does not exist`);
        } else {
          assert.ok(source! in volumes, `${name} mounts volume ${source}, which is not declared`);
        }
      }
      published.push(...((service.ports ?? []) as string[]).map((p) => p.split(':')[0]!));
      const build = service.build as { context: string; dockerfile: string } | undefined;
      if (build !== undefined) {
        assert.ok(existsSync(join(here, build.context, build.dockerfile)), `${name}: ${build.dockerfile}`);
      }
    }
    assert.equal(new Set(published).size, published.length, 'every published port is distinct');

    const berths = Object.entries(services).filter(([name]) => name.startsWith('berth'));
    assert.equal(berths.length, 3, 'three Berth replicas');
    const config = loadConfig({ file: clusterConfig });
    assert.ok(config.storage.driver === 's3' && config.metadata.driver === 'postgres');
    for (const [name, raw] of berths) {
      const service = asTree(raw);
      const mounts = (service.volumes ?? []) as string[];
      const mounted = mounts.find((m) => m.split(':')[1] === configPath);
      assert.ok(mounted, `${name} mounts its config at ${configPath}`);
      assert.equal(
        resolve(here, mounted.split(':')[0]!),
        resolve(clusterConfig),
        `${name} runs berth-cluster.yaml`,
      );
      const environment = asTree(service.environment);
      for (const variable of Object.keys(environment).filter((v) => v.startsWith('BERTH_'))) {
        assert.ok(variable in environmentKeys, `${name}: Berth reads no ${variable}`);
      }
      // With its environment applied, the file still validates and names hosts that are compose services.
      const env = Object.fromEntries(Object.entries(environment).map(([k, v]) => [k, String(v)]));
      const effective = loadConfig({ file: clusterConfig, env });
      assert.ok(effective.metadata.driver === 'postgres');
      assert.ok(new URL(effective.metadata.url).hostname in services, `${name}: database host is a service`);
      assert.ok(env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY, `${name}: S3 keys`);
    }
    assert.ok(config.storage.endpoint !== undefined && new URL(config.storage.endpoint).hostname in services);
    const bucketJob = JSON.stringify(asTree(services.bucket).command);
    assert.ok(
      bucketJob.includes(`/${config.storage.bucket}`),
      `the bucket job creates ${config.storage.bucket}`,
    );
  });

  it('Chart.yaml and values.yaml parse, and the config block is a valid cluster config', () => {
    const meta = yamlOf(join(chart, 'Chart.yaml'));
    assert.equal(meta.apiVersion, 'v2');
    assert.equal(meta.name, 'berth');
    assert.match(String(meta.version), /^\d+\.\d+\.\d+(-[\w.]+)?$/);
    assert.ok(meta.appVersion);
    const values = yamlOf(join(chart, 'values.yaml'));
    assert.ok(Number(values.replicaCount) >= 2, 'several replicas');
    // Secrets come from the environment (the chart's Secret), so the block validates with its placeholder.
    const config = validateConfig(values.config);
    assert.equal(config.storage.driver, 's3');
    assert.equal(config.metadata.driver, 'postgres');
  });

  it("the chart's templates refer only to values, helpers and template files that exist", () => {
    const values = yamlOf(join(chart, 'values.yaml'));
    const templates = files(join(chart, 'templates'));
    const names = templates.map((t) => relative(join(chart, 'templates'), t)).sort();
    for (const needed of [
      '_helpers.tpl',
      'configmap.yaml',
      'deployment.yaml',
      'secret.yaml',
      'service.yaml',
    ]) {
      assert.ok(names.includes(needed), `templates/${needed}`);
    }
    const helpers = read(join(chart, 'templates', '_helpers.tpl'));
    const defined = new Set([...helpers.matchAll(/define "([^"]+)"/g)].map((m) => m[1]));
    let references = 0;
    for (const template of templates) {
      const text = read(template);
      assert.equal(text.split('{{').length, text.split('}}').length, `${template}: balanced {{ }}`);
      for (const [, path] of text.matchAll(/\.Values((?:\.[A-Za-z_][A-Za-z0-9_]*)+)/g)) {
        let node: unknown = values;
        for (const key of path!.slice(1).split('.')) {
          assert.ok(node !== null && typeof node === 'object' && key in node, `${template}: .Values${path}`);
          node = (node as Tree)[key];
        }
        references++;
      }
      for (const [, helper] of text.matchAll(/include "([^"]+)"/g)) {
        assert.ok(defined.has(helper), `${template}: include "${helper}" is not defined`);
      }
      for (const [, file] of text.matchAll(/\$\.Template\.BasePath "\/([^"]+)"/g)) {
        assert.ok(names.includes(file!), `${template}: ${file}`);
      }
    }
    assert.ok(references > 20, `${references} value references checked`);

    const deployment = read(join(chart, 'templates', 'deployment.yaml'));
    for (const probe of ['livenessProbe', 'readinessProbe']) {
      assert.match(deployment, new RegExp(`${probe}:\\s+httpGet:\\s+path: /health`), probe);
    }
    assert.match(deployment, /replicas: \{\{ \.Values\.replicaCount \}\}/);
    assert.match(deployment, /containerPort: \{\{ \.Values\.config\.server\.port \}\}/);
    assert.ok(
      deployment.includes(`mountPath: ${dirname(configPath)}`),
      'the ConfigMap is mounted where the image looks',
    );
    assert.match(
      read(join(chart, 'templates', 'configmap.yaml')),
      /berth\.yaml: \|\s+\{\{- toYaml \.Values\.config/,
    );
    // Every BERTH_* variable the pods get is one Berth reads; the Secret holds each key the pods ask for.
    for (const [, variable] of deployment.matchAll(/name: (BERTH_[A-Z_]+)/g)) {
      assert.ok(variable! in environmentKeys, `Berth reads no ${variable}`);
    }
    const secret = read(join(chart, 'templates', 'secret.yaml'));
    for (const [, key] of deployment.matchAll(/key: ([a-z0-9-]+)/g)) {
      assert.ok(secret.includes(`${key}:`), `the chart's Secret has ${key}`);
    }
  });
});
