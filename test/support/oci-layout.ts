// OCI image layouts on disk (image-spec `image-layout.md`), written and read without a container tool:
// a small, real image (gzipped tar layers, a config with their diff IDs) for clients such as skopeo to
// push, and a reader that checks what a client pulled.
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

const manifestType = 'application/vnd.oci.image.manifest.v1+json';

function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/** A ustar archive of regular files (mode 0644, owned by root, mtime 0): enough for an image layer. */
export function tarball(files: Record<string, string | Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = Buffer.isBuffer(content) ? content : Buffer.from(content);
    const header = Buffer.alloc(512);
    const field = (offset: number, length: number, value: string) =>
      header.write(value, offset, length, 'ascii');
    const octal = (value: number, digits: number) => value.toString(8).padStart(digits, '0');
    field(0, 100, name.replace(/^\/+/, ''));
    field(100, 8, `${octal(0o644, 7)}\0`);
    field(108, 8, `${octal(0, 7)}\0`);
    field(116, 8, `${octal(0, 7)}\0`);
    field(124, 12, `${octal(data.length, 11)}\0`);
    field(136, 12, `${octal(0, 11)}\0`);
    field(148, 8, ' '.repeat(8));
    field(156, 1, '0');
    field(257, 8, 'ustar\u000000');
    field(265, 32, 'root');
    field(297, 32, 'root');
    let sum = 0;
    for (const byte of header) sum += byte;
    field(148, 8, `${octal(sum, 6)}\0 `);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

export interface LayoutImage {
  manifestDigest: string;
  manifest: Buffer;
  /** Every blob of the image (config, layers and the manifest itself) by digest. */
  blobs: Map<string, Buffer>;
}

/** Writes a linux/amd64 image with one gzipped layer per entry of `layers` into a new layout at `dir`. */
export async function writeOciLayout(
  dir: string,
  tag: string,
  layers: Record<string, string | Buffer>[],
): Promise<LayoutImage> {
  const blobs = new Map<string, Buffer>();
  const add = (bytes: Buffer) => {
    const digest = sha256(bytes);
    blobs.set(digest, bytes);
    return { digest, size: bytes.length };
  };
  const tars = layers.map((files) => tarball(files));
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: { Cmd: ['/hello'] },
      rootfs: { type: 'layers', diff_ids: tars.map((tar) => sha256(tar)) },
      history: tars.map(() => ({ created_by: 'berth cluster test' })),
    }),
  );
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: manifestType,
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...add(config) },
      layers: tars.map((tar) => ({
        mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
        ...add(gzipSync(tar)),
      })),
    }),
  );
  const described = add(manifest);
  await mkdir(join(dir, 'blobs', 'sha256'), { recursive: true });
  for (const [digest, bytes] of blobs) await writeFile(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  await writeFile(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  await writeFile(
    join(dir, 'index.json'),
    JSON.stringify({
      schemaVersion: 2,
      manifests: [
        { mediaType: manifestType, ...described, annotations: { 'org.opencontainers.image.ref.name': tag } },
      ],
    }),
  );
  return { manifestDigest: described.digest, manifest, blobs };
}

export interface ReadLayout {
  /** Digests of the manifests index.json lists. */
  manifests: string[];
  /** Every blob file, by the digest its name claims, with the digest its bytes hash to. */
  blobs: Map<string, string>;
}

/** Reads a layout a client wrote: index.json, and every blob file hashed. */
export async function readOciLayout(dir: string): Promise<ReadLayout> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8')) as {
    manifests: { digest: string }[];
  };
  const blobs = new Map<string, string>();
  for (const name of await readdir(join(dir, 'blobs', 'sha256'))) {
    blobs.set(`sha256:${name}`, sha256(await readFile(join(dir, 'blobs', 'sha256', name))));
  }
  return { manifests: index.manifests.map((m) => m.digest), blobs };
}
