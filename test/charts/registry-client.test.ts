// The CLI's registry client answers the registry's challenge: Docker's token flow (401 Bearer -> GET realm
// with Basic and the scope -> retry with the token, cached per scope) and plain Basic.
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { RegistryClient } from '../../src/cli/registry-client.js';

const basic = `Basic ${Buffer.from('alice:pw').toString('base64')}`;

interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

async function serve(
  handler: (req: IncomingMessage, base: string) => Answer,
): Promise<{ server: Server; base: string; seen: string[] }> {
  const seen: string[] = [];
  let base = '';
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    const answer = handler(req, base);
    res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base, seen };
}

describe('CLI registry client authentication', () => {
  const servers: Server[] = [];
  after(() => Promise.all(servers.map((s) => new Promise<void>((done) => s.close(() => done())))));

  it('follows the token flow: Basic to the realm with the scope, then Bearer, cached per scope', async () => {
    const { server, base, seen } = await serve((req, root): Answer => {
      if (req.url?.startsWith('/token')) {
        if (req.headers.authorization !== basic) return { status: 401 };
        const scope = new URL(req.url, root).searchParams.get('scope');
        return {
          status: 200,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ token: `tok:${scope}` }),
        };
      }
      if (req.headers.authorization === 'Bearer tok:repository:p/c:pull')
        return { status: 200, headers: { 'Content-Type': 'application/json' }, body: '{"tags":["1.0.0"]}' };
      return {
        status: 401,
        headers: {
          'WWW-Authenticate': `Bearer realm="${root}/token",service="reg",scope="repository:p/c:pull"`,
        },
      };
    });
    servers.push(server);
    const client = new RegistryClient({ base, credentials: { username: 'alice', password: 'pw' } });
    assert.deepEqual(await client.tags('p/c'), ['1.0.0']);
    assert.deepEqual(await client.tags('p/c'), ['1.0.0']);
    const tokenRequests = seen.filter((line) => line.startsWith('GET /token'));
    assert.equal(tokenRequests.length, 1, 'the token is reused for the same scope');
    assert.match(tokenRequests[0]!, /service=reg&scope=repository%3Ap%2Fc%3Apull Basic /);
    assert.equal(seen.at(-1), 'GET /v2/p/c/tags/list?n=1000 Bearer tok:repository:p/c:pull');
  });

  it('answers a Basic challenge with Basic, and gives up without credentials', async () => {
    const { server, base } = await serve((req): Answer =>
      req.headers.authorization === basic
        ? { status: 200, body: '{}' }
        : { status: 401, headers: { 'WWW-Authenticate': 'Basic realm="reg"' } },
    );
    servers.push(server);
    await new RegistryClient({ base, credentials: { username: 'alice', password: 'pw' } }).checkLogin();
    await assert.rejects(new RegistryClient({ base }).checkLogin(), /login failed: 401/);
  });
});
