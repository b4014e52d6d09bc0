import type { IncomingMessage } from 'node:http';
import { pipeline, Readable, Transform } from 'node:stream';
import { RegistryError } from '../../core/errors.js';

/** The largest upload body accepted: Helm's 100 MiB archive limit plus room for a provenance file and form framing. */
export const maxUploadBytes = 102 * 1024 * 1024;

export interface ChartUpload {
  chart?: Readable;
  provenance?: Buffer;
}

/**
 * Reads a ChartMuseum upload: a raw `.tgz` body (streamed, never buffered), or `multipart/form-data`
 * with the fields `chart` and `prov` (parsed by the runtime's form parser, which holds the parts in
 * memory, hence the size cap).
 */
export async function readChartUpload(req: IncomingMessage): Promise<ChartUpload> {
  const type = (req.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
  const declared = Number(req.headers['content-length'] ?? '0');
  if (declared > maxUploadBytes)
    throw new RegistryError('BAD_REQUEST', `upload is larger than ${maxUploadBytes} bytes`);
  if (type !== 'multipart/form-data') return { chart: limited(req, maxUploadBytes) };
  let form: FormData;
  try {
    const request = new Request('http://berth.invalid/', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] ?? '' },
      body: Readable.toWeb(limited(req, maxUploadBytes)) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit);
    form = await request.formData();
  } catch (error) {
    if (error instanceof RegistryError) throw error;
    throw new RegistryError('BAD_REQUEST', `malformed multipart form: ${(error as Error).message}`);
  }
  const upload: ChartUpload = {};
  const chart = form.get('chart');
  const prov = form.get('prov');
  if (chart instanceof Blob) upload.chart = Readable.from([Buffer.from(await chart.arrayBuffer())]);
  if (prov instanceof Blob) upload.provenance = Buffer.from(await prov.arrayBuffer());
  return upload;
}

/** Reads a small raw body (a provenance file) whole, up to `max` bytes. */
export async function readSmallBody(req: IncomingMessage, max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > max) throw new RegistryError('BAD_REQUEST', `body is larger than ${max} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

/** The request body through a byte cap; a client that goes away fails the stream instead of stalling it. */
function limited(req: IncomingMessage, max: number): Readable {
  let size = 0;
  const cap = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      if (size > max) done(new RegistryError('BAD_REQUEST', `upload is larger than ${max} bytes`));
      else done(null, chunk);
    },
  });
  pipeline(req, cap, () => undefined);
  return cap;
}
