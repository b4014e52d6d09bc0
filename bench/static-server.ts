// The loopback ceilings: a plain node:http server that streams one file, read as Berth reads blobs (1 MiB
// chunks), and takes uploads the least a registry can: PUT /sink reads the body and drops it, PUT
// /sink?hash reads it and computes its SHA-256, as any registry must, with no disk and no bookkeeping.
// Usage: node dist/bench/static-server.js <file> <port>
import { createHash } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createServer } from 'node:http';
import { pipeline } from 'node:stream/promises';

const [file, port] = process.argv.slice(2);
if (file === undefined || port === undefined) {
  process.stderr.write('usage: static-server.js <file> <port>\n');
  process.exit(2);
}
const size = statSync(file).size;
createServer((req, res) => {
  if (req.method === 'PUT' && req.url?.startsWith('/sink')) {
    const hash = req.url.includes('hash') ? createHash('sha256') : undefined;
    req.on('data', (chunk: Buffer) => hash?.update(chunk));
    req.on('end', () => {
      const digest = hash === undefined ? '' : `sha256:${hash.digest('hex')}`;
      res.writeHead(201, { 'content-length': '0', 'docker-content-digest': digest }).end();
    });
    return;
  }
  if (req.url !== '/blob') {
    res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-length': '0' }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
  pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), res).catch(() => res.destroy());
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
