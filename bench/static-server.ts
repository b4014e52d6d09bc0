// The loopback ceiling: a plain node:http server that streams one file, read as Berth reads blobs
// (1 MiB chunks). Usage: node dist/bench/static-server.js <file> <port>
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
  if (req.url !== '/blob') {
    res.writeHead(req.url === '/v2/' ? 200 : 404, { 'content-length': '0' }).end();
    return;
  }
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
  pipeline(createReadStream(file, { highWaterMark: 1 << 20 }), res).catch(() => res.destroy());
}).listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
