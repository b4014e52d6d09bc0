import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type Server as NetServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { bufferBlob } from '../../bench/blob-data.js';
import { findHeadEnd, LeanConnection, LeanPool } from '../../bench/lean-http.js';
import { RegistryClient } from '../../bench/registry-client.js';

/** Starts `server` on a random loopback port; returns its origin. */
async function listen(server: Server | NetServer): Promise<string> {
  await new Promise<void>((ready) => server.listen(0, '127.0.0.1', () => ready()));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return `http://127.0.0.1:${address.port}`;
}

function stop(server: Server | NetServer): Promise<void> {
  if ('closeAllConnections' in server) server.closeAllConnections();
  return new Promise((done) => server.close(() => done()));
}

/** A raw TCP server that answers each request (once its head has arrived) by writing `pieces` with pauses. */
function rawServer(pieces: (string | Buffer)[], then: 'keep' | 'end' | 'destroy' = 'keep'): NetServer {
  return createNetServer((socket) => {
    socket.setNoDelay(true);
    let seen = '';
    const answer = async () => {
      for (const piece of pieces) {
        socket.write(piece);
        await sleep(15); // separate reads on the client
      }
      if (then === 'end') socket.end();
      if (then === 'destroy') socket.destroy();
    };
    socket.on('data', (data: Buffer) => {
      seen += data.toString('latin1');
      if (!seen.includes('\r\n\r\n')) return;
      seen = '';
      answer().catch(() => socket.destroy());
    });
    socket.on('error', () => {});
  });
}

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** Copies of every onBody chunk, and the number of calls. */
function collector(): { onBody: (chunk: Buffer) => void; bytes: () => Buffer; calls: () => number } {
  const chunks: Buffer[] = [];
  return {
    onBody: (chunk) => chunks.push(Buffer.from(chunk)),
    bytes: () => Buffer.concat(chunks),
    calls: () => chunks.length,
  };
}

describe('findHeadEnd', () => {
  const crlf2 = Buffer.from('\r\n\r\n');
  it('finds the blank line inside the chunk', () => {
    assert.equal(findHeadEnd(Buffer.alloc(0), Buffer.from('HTTP/1.1 200 OK\r\na: b\r\n\r\nbody')), 25);
  });
  it('finds a blank line split across reads', () => {
    for (let k = 1; k <= 3; k++) {
      const before = Buffer.concat([Buffer.from('HTTP/1.1 200 OK'), crlf2.subarray(0, k)]);
      assert.equal(findHeadEnd(before, Buffer.concat([crlf2.subarray(k), Buffer.from('xyz')])), 4 - k);
    }
  });
  it('does not find one that is not there', () => {
    assert.equal(findHeadEnd(Buffer.from('HTTP/1.1 200 OK\r\n'), Buffer.from('a: b\r\n')), -1);
    assert.equal(findHeadEnd(Buffer.from('x\r\n'), Buffer.from('\n')), -1);
  });
});

describe('LeanPool against node:http', () => {
  const big = randomBytes(5 * 1024 * 1024 + 123);
  const small = randomBytes(3000);
  const oddSizes = [1, 7, 4097, 65537, 3, 100_003, 2];
  const odd = randomBytes(oddSizes.reduce((a, b) => a + b, 0));
  let connections = 0;
  let uploaded: { headers: IncomingMessage['headers']; bytes: Buffer } | undefined;
  let server: Server;
  let origin: string;

  before(async () => {
    server = createServer((req: IncomingMessage, res: ServerResponse) => {
      const send = async () => {
        if (req.url === '/big') {
          res.writeHead(200, { 'content-length': String(big.length) });
          for (let at = 0; at < big.length; at += 300_001) {
            if (!res.write(big.subarray(at, at + 300_001)))
              await new Promise((drained) => res.once('drain', drained));
          }
          res.end();
        } else if (req.url === '/chunked') {
          res.writeHead(200, { 'content-type': 'application/octet-stream' }); // no length: chunked
          let at = 0;
          for (const size of oddSizes) {
            res.write(odd.subarray(at, (at += size)));
            await sleep(2);
          }
          res.end();
        } else if (req.url === '/small') {
          res.writeHead(200, { 'content-length': String(small.length) }).end(small);
        } else if (req.url === '/close') {
          res.writeHead(200, { 'content-length': '2', connection: 'close' }).end('ok');
        } else if (req.url === '/upload') {
          const chunks: Buffer[] = [];
          for await (const chunk of req) chunks.push(chunk as Buffer);
          uploaded = { headers: req.headers, bytes: Buffer.concat(chunks) };
          res.writeHead(201, { location: '/done', 'content-length': '0' }).end();
        } else {
          const body = JSON.stringify({ errors: [{ code: 'NOT_FOUND', message: 'no such thing' }] });
          res.writeHead(404, { 'content-type': 'application/json' }).end(body);
        }
      };
      send().catch(() => res.destroy());
    });
    server.on('connection', () => connections++);
    origin = await listen(server);
  });
  after(() => stop(server));

  it('delivers a content-length body written in many pieces, intact, through onBody', async () => {
    const pool = new LeanPool(origin, 2);
    try {
      const body = collector();
      const response = await pool.request({ method: 'GET', path: '/big', onBody: body.onBody });
      assert.equal(response.status, 200);
      assert.equal(response.headers['content-length'], String(big.length));
      assert.equal(response.body, undefined);
      assert.ok(body.calls() > 1, 'several reads');
      assert.equal(sha256(body.bytes()), sha256(big));
    } finally {
      pool.close();
    }
  });

  it('decodes a chunked body with odd chunk sizes', async () => {
    const pool = new LeanPool(origin, 1);
    try {
      const response = await pool.request({ method: 'GET', path: '/chunked' });
      assert.equal(response.status, 200);
      assert.equal(response.headers['transfer-encoding'], 'chunked');
      assert.equal(response.body!.length, odd.length);
      assert.ok(response.body!.equals(odd));
    } finally {
      pool.close();
    }
  });

  it('returns a 404 with its small JSON body', async () => {
    const pool = new LeanPool(origin, 1);
    try {
      const response = await pool.request({ method: 'GET', path: '/missing' });
      assert.equal(response.status, 404);
      assert.equal(response.headers['content-type'], 'application/json');
      const parsed = JSON.parse(response.body!.toString('utf8')) as { errors: { code: string }[] };
      assert.equal(parsed.errors[0]!.code, 'NOT_FOUND');
    } finally {
      pool.close();
    }
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const pool = new LeanPool(origin, 4);
    const before = connections;
    try {
      const first = await pool.request({ method: 'GET', path: '/small' });
      const second = await pool.request({ method: 'GET', path: '/big', onBody: () => {} });
      const third = await pool.request({ method: 'GET', path: '/missing' });
      assert.deepEqual([first.status, second.status, third.status], [200, 200, 404]);
      assert.ok(first.body!.equals(small));
      assert.equal(connections - before, 1);
      assert.equal(pool.size, 1);
    } finally {
      pool.close();
    }
  });

  it('does not reuse a connection the server answered with Connection: close', async () => {
    const pool = new LeanPool(origin, 1);
    const before = connections;
    try {
      const closing = await pool.request({ method: 'GET', path: '/close' });
      assert.equal(closing.status, 200);
      assert.equal(closing.body!.toString(), 'ok');
      const next = await pool.request({ method: 'GET', path: '/small' });
      assert.ok(next.body!.equals(small));
      assert.equal(connections - before, 2);
    } finally {
      pool.close();
    }
  });

  it('does not reuse a Connection: close connection even while the server keeps it open', async () => {
    const raw = rawServer(['HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok']);
    let opened = 0;
    raw.on('connection', () => opened++);
    const pool = new LeanPool(await listen(raw), 1);
    try {
      for (let i = 0; i < 3; i++)
        assert.equal((await pool.request({ method: 'GET', path: '/' })).status, 200);
      assert.equal(opened, 3);
    } finally {
      pool.close();
      await stop(raw);
    }
  });

  it('uploads body pieces with a computed content-length', async () => {
    const pool = new LeanPool(origin, 1);
    const pieces = [big.subarray(0, 1_000_000), big.subarray(1_000_000, 1_000_017), small];
    try {
      uploaded = undefined;
      const response = await pool.request({
        method: 'PUT',
        path: '/upload',
        headers: { 'content-type': 'application/octet-stream' },
        body: pieces,
      });
      assert.equal(response.status, 201);
      assert.equal(response.headers.location, '/done');
      assert.equal(uploaded!.headers['content-length'], String(1_000_017 + small.length));
      assert.ok(uploaded!.bytes.equals(Buffer.concat(pieces)));
    } finally {
      pool.close();
    }
  });

  it('refuses a content-length that does not match the pieces', async () => {
    const pool = new LeanPool(origin, 1);
    try {
      await assert.rejects(
        pool.request({ method: 'PUT', path: '/upload', headers: { 'Content-Length': '5' }, body: [small] }),
        /content-length 5 but the body has 3000 bytes/,
      );
    } finally {
      pool.close();
    }
  });
});

describe('LeanConnection against raw servers', () => {
  const servers: NetServer[] = [];
  async function serve(pieces: (string | Buffer)[], then: 'keep' | 'end' | 'destroy' = 'keep') {
    const server = rawServer(pieces, then);
    servers.push(server);
    const url = new URL(await listen(server));
    return new LeanConnection(url.hostname, Number(url.port));
  }
  after(() => Promise.all(servers.map(stop)));

  it('takes the head and the first body bytes from one read', async () => {
    const connection = await serve(['HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\nhello', ' world']);
    try {
      const body = collector();
      const response = await connection.request({ method: 'GET', path: '/', onBody: body.onBody });
      assert.equal(response.status, 200);
      assert.equal(body.bytes().toString(), 'hello world');
      assert.equal(body.calls(), 2);
      assert.ok(connection.usable && connection.idle);
    } finally {
      connection.destroy();
    }
  });

  it('takes a head split across reads, even inside its blank line', async () => {
    const connection = await serve([
      'HTTP/1.1 2',
      '00 OK\r\nX-One: 1\r',
      '\nx-one: 2\r\ncontent-length: 3\r\n\r',
      '\nabc',
    ]);
    try {
      const response = await connection.request({ method: 'GET', path: '/' });
      assert.equal(response.status, 200);
      assert.equal(response.headers['x-one'], '1, 2');
      assert.equal(response.body!.toString(), 'abc');
    } finally {
      connection.destroy();
    }
  });

  it('decodes chunk-size lines, data and trailers split across reads', async () => {
    const connection = await serve([
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
      '1',
      'a\r',
      '\n0123456789abcdef',
      '0123456789\r',
      '\n3;ext=1\r\nxyz\r\n0\r\n',
      'x-trailer: t\r\n',
      '\r\n',
    ]);
    try {
      const response = await connection.request({ method: 'GET', path: '/' });
      assert.equal(response.status, 200);
      assert.equal(response.body!.toString(), '0123456789abcdef0123456789xyz');
      assert.ok(connection.usable && connection.idle);
    } finally {
      connection.destroy();
    }
  });

  it('rejects a chunked body whose chunk data is not followed by CRLF', async () => {
    const connection = await serve([
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n',
    ]);
    await assert.rejects(connection.request({ method: 'GET', path: '/' }), /no CRLF after chunk data/);
    assert.equal(connection.usable, false);
  });

  it('reads no body after a 204 and keeps the connection', async () => {
    const connection = await serve(['HTTP/1.1 204 No Content\r\nx-a: b\r\n\r\n']);
    try {
      const first = await connection.request({ method: 'DELETE', path: '/x' });
      const second = await connection.request({ method: 'DELETE', path: '/y' });
      assert.deepEqual([first.status, second.status], [204, 204]);
      assert.equal(first.body!.length, 0);
      assert.ok(connection.usable);
    } finally {
      connection.destroy();
    }
  });

  it('rejects, and is unusable, when the server closes the socket mid-body', async () => {
    const connection = await serve(['HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n', 'partial'], 'destroy');
    const outcome = await Promise.race([
      connection.request({ method: 'GET', path: '/', onBody: () => {} }).then(
        () => 'resolved',
        (error: Error) => error.message,
      ),
      sleep(3000).then(() => 'hung'),
    ]);
    assert.match(outcome, /after 7 body bytes of an HTTP 200 response/);
    assert.equal(connection.usable, false);
  });

  it('rejects when the server closes inside a chunked body', async () => {
    const connection = await serve(['HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nab'], 'end');
    await assert.rejects(connection.request({ method: 'GET', path: '/' }), /closed the connection/);
    assert.equal(connection.usable, false);
  });

  it('rejects when the server closes before answering', async () => {
    const connection = await serve([], 'end');
    await assert.rejects(connection.request({ method: 'GET', path: '/' }), /before any response/);
  });

  it('fails the request when onBody throws', async () => {
    const connection = await serve(['HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nabcd']);
    await assert.rejects(
      connection.request({
        method: 'GET',
        path: '/',
        onBody: () => {
          throw new Error('consumer broke');
        },
      }),
      /consumer broke/,
    );
    assert.equal(connection.usable, false);
  });
});

describe('RegistryClient over the lean client', () => {
  const good = randomBytes(3 * 1024 * 1024 + 5);
  const bad = Buffer.from(good);
  bad[12345] = bad[12345]! ^ 1;
  const digest = sha256(good);
  let registry: Server;
  let storage: Server;
  let origin: string;
  let storageOrigin: string;
  let received: Buffer[] = [];

  before(async () => {
    storage = createServer((req, res) => {
      if (req.url === '/bucket/good?sig=1') res.writeHead(200).end(good);
      else if (req.url === '/bucket/bad?sig=1') res.writeHead(200).end(bad);
      else res.writeHead(403).end('<Error>SignatureDoesNotMatch</Error>');
    });
    storageOrigin = await listen(storage);
    registry = createServer((req, res) => {
      const url = req.url ?? '';
      if (url === '/good') res.writeHead(200, { 'content-length': String(good.length) }).end(good);
      else if (url === '/bad') res.writeHead(200, { 'content-length': String(bad.length) }).end(bad);
      else if (url === '/short')
        res.writeHead(200).end(good.subarray(1)); // chunked, one byte short
      else if (url === '/redirect-good')
        res.writeHead(307, { location: `${storageOrigin}/bucket/good?sig=1` }).end();
      else if (url === '/redirect-bad')
        res.writeHead(307, { location: `${storageOrigin}/bucket/bad?sig=1` }).end();
      else if (url === '/v2/r/blobs/uploads/' && req.method === 'POST')
        res.writeHead(202, { location: '/v2/r/blobs/uploads/u1' }).end();
      else if (req.method === 'PATCH' || req.method === 'PUT') {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          received.push(Buffer.concat(chunks));
          if (req.method === 'PATCH') {
            // Distribution's way: an absolute URL with a state parameter
            const n = received.length;
            res.writeHead(202, { location: `${origin}/v2/r/blobs/uploads/u1?_state=s${n}` }).end();
          } else if (url.includes(`digest=${encodeURIComponent(digest)}`)) res.writeHead(201).end();
          else res.writeHead(400).end(`{"errors":[{"code":"DIGEST_INVALID","url":"${url}"}]}`);
        });
      } else
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end('{"errors":[{"code":"BLOB_UNKNOWN"}]}');
    });
    origin = await listen(registry);
  });
  after(() => Promise.all([stop(registry), stop(storage)]));

  it('pullVerified resolves with the size when the bytes match', async () => {
    const client = new RegistryClient(origin, 2);
    try {
      assert.equal(await client.pullVerified('/good', digest, good.length), good.length);
      assert.equal(await client.pullVerified('/good', digest, good.length), good.length);
    } finally {
      await client.close();
    }
  });

  it('pullVerified rejects bytes whose digest does not match, or a short body', async () => {
    const client = new RegistryClient(origin, 1);
    try {
      await assert.rejects(client.pullVerified('/bad', digest, good.length), /got 3145733 bytes sha256:/);
      await assert.rejects(client.pullVerified('/short', digest, good.length), /got 3145732 bytes/);
      await assert.rejects(client.pullVerified('/good', digest, good.length + 1), /expected 3145734 bytes/);
    } finally {
      await client.close();
    }
  });

  it('pullVerified reports a non-200 status with the start of the body', async () => {
    const client = new RegistryClient(origin, 1);
    try {
      await assert.rejects(client.pullVerified('/nothing', digest, good.length), /HTTP 404 .*BLOB_UNKNOWN/);
    } finally {
      await client.close();
    }
  });

  it('pullVerified follows a 307 to another server and verifies what it gets', async () => {
    const client = new RegistryClient(origin, 1);
    try {
      assert.equal(await client.pullVerified('/redirect-good', digest, good.length), good.length);
      await assert.rejects(
        client.pullVerified('/redirect-bad', digest, good.length),
        /redirected to http:\/\/127\.0\.0\.1:\d+\): got 3145733 bytes/,
      );
    } finally {
      await client.close();
    }
  });

  it('pushChunked sends the pieces and follows absolute Location URLs', async () => {
    const client = new RegistryClient(origin, 1);
    received = [];
    try {
      const blob = bufferBlob(good);
      assert.equal(await client.pushChunked('r', blob, 1024 * 1024), 1 + 4 + 1);
      assert.equal(received.length, 5); // four PATCHes and the closing PUT
      assert.equal(sha256(Buffer.concat(received)), digest);
      received = [];
      assert.equal(await client.pushMonolithic('r', blob), 2);
      assert.ok(received[0]!.equals(good));
      await assert.rejects(
        client.pushMonolithic('r', { ...blob, digest: sha256(bad) }),
        /PUT .*: HTTP 400 .*DIGEST_INVALID/,
      );
    } finally {
      await client.close();
    }
  });
});
