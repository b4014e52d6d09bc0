import {
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { digestHex } from '../../src/core/oci/digest.js';
import { createS3Client, type S3BlobStoreOptions } from '../../src/storage/s3/options.js';
import { S3BlobStore } from '../../src/storage/s3/s3-blob-store.js';
import { freshBucket, keys } from '../support/s3.js';
import { blobStoreContract, sha256 } from './blob-store.contract.js';

/*
 * Runs against a real S3 server named by S3_ENDPOINT, S3_ACCESS_KEY, S3_SECRET_KEY and S3_REGION, e.g.
 *   eval "$(../shared/services/s3-server.sh start "$PWD/.s3data")"
 *   export S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_REGION
 * Each run creates its own buckets and removes them at the end. Without the variables the file fails:
 * a missing S3 must never look like a pass.
 */

const MiB = 1024 * 1024;
const variables = ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_REGION'] as const;
const missing = variables.filter((name) => !process.env[name]);
const runId = `berth-test-${Date.now().toString(36)}-${randomBytes(3).toString('hex')}`;

function baseOptions(bucket: string): S3BlobStoreOptions {
  return {
    bucket,
    endpoint: process.env.S3_ENDPOINT!,
    region: process.env.S3_REGION!,
    accessKeyId: process.env.S3_ACCESS_KEY!,
    secretAccessKey: process.env.S3_SECRET_KEY!,
    forcePathStyle: true,
    prefix: 'registry/',
  };
}

async function multipartUploads(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
  return (page.Uploads ?? []).map((upload) => upload.Key ?? '');
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Deterministic, non-repeating test bytes (repeated patterns would hide misplaced parts). */
function content(bytes: number, seed: string): Buffer {
  const out = Buffer.alloc(bytes);
  let block = createHash('sha256').update(seed).digest();
  for (let at = 0; at < bytes; at += block.length) {
    block.copy(out, at);
    block = createHash('sha256').update(block).digest();
  }
  return out;
}

function chunks(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(bytes.subarray(at, at + size));
  return out;
}

if (missing.length > 0) {
  it('S3 blob store: needs a running S3 server', () => {
    assert.fail(
      `${missing.join(', ')} not set. Start an S3 server and export its settings, e.g.\n` +
        `  eval "$(/work/shared/services/s3-server.sh start "$PWD/.s3data")"\n` +
        `  export S3_ENDPOINT S3_ACCESS_KEY S3_SECRET_KEY S3_REGION`,
    );
  });
} else {
  blobStoreContract('S3', async () => {
    const admin = createS3Client(baseOptions(''));
    const bucket = `${runId}-contract`;
    const removeBucket = await freshBucket(admin, bucket);
    const store = await new S3BlobStore(baseOptions(bucket)).init();
    return {
      store,
      reopen: () => new S3BlobStore(baseOptions(bucket)).init(),
      dispose: async () => {
        await store.close();
        await removeBucket();
        admin.destroy();
      },
    };
  });

  describe('S3 blob store specifics', () => {
    const bucket = `${runId}-specific`;
    // 5 MiB parts, and copies above 10 MiB done part by part, so that small blobs reach every path.
    const options = (): S3BlobStoreOptions => ({
      ...baseOptions(bucket),
      partSize: 5 * MiB,
      copyLimit: 10 * MiB,
    });
    let admin: S3Client;
    let removeBucket: () => Promise<void>;
    let store: S3BlobStore;

    before(async () => {
      admin = createS3Client(baseOptions(''));
      removeBucket = await freshBucket(admin, bucket);
      store = new S3BlobStore(options());
    });
    after(async () => {
      await store.close();
      await removeBucket();
      admin.destroy();
    });

    async function state(
      id: string,
    ): Promise<{ offset: number; multipart?: { parts: unknown[] }; tail?: { size: number } }> {
      const object = await admin.send(
        new GetObjectCommand({ Bucket: bucket, Key: `registry/uploads/${id}/state.json` }),
      );
      return JSON.parse(await object.Body!.transformToString()) as Awaited<ReturnType<typeof state>>;
    }

    async function assertUploadGone(id: string): Promise<void> {
      assert.deepEqual(await keys(admin, bucket, `registry/uploads/${id}/`), []);
      assert.deepEqual(await multipartUploads(admin, bucket, `registry/uploads/${id}/`), []);
    }

    it('uploads 12 MiB in 1 MiB chunks as multipart parts and reads ranges across them', async () => {
      const whole = content(12 * MiB, 'twelve');
      const id = await store.startUpload();
      let offset = 0;
      for (const chunk of chunks(whole, MiB)) {
        assert.deepEqual(await store.appendUpload(id, Readable.from([chunk]), offset), {
          ok: true,
          offset: offset + chunk.length,
        });
        offset += chunk.length;
      }
      const kept = await state(id);
      assert.equal(kept.offset, 12 * MiB);
      assert.equal(kept.multipart?.parts.length, 2, 'two full 5 MiB parts');
      assert.equal(kept.tail?.size, 2 * MiB, 'the rest waits in the tail');
      const digest = sha256(whole);
      assert.deepEqual(await store.commitUpload(id, digest), { ok: true, size: whole.length });
      await assertUploadGone(id);
      const key = `registry/blobs/sha256/${digestHex(digest).slice(0, 2)}/${digestHex(digest)}`;
      const head = await admin.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
      assert.equal(head.ContentLength, whole.length, 'the blob is at its content address');
      const reader = await store.open(digest, { start: 5 * MiB - 10, end: 10 * MiB + 9 });
      assert.ok(reader);
      assert.equal(reader.size, whole.length);
      assert.ok((await readAll(reader.stream)).equals(whole.subarray(5 * MiB - 10, 10 * MiB + 10)));
      const full = await store.open(digest);
      assert.ok(full);
      assert.equal(sha256(await readAll(full.stream)), digest);
    });

    it('lets another node continue a multipart upload, re-hashing parts it cannot read', async () => {
      // 17 MiB: three parts and a tail. The second node completes the parts into a 15 MiB object to read
      // them, copies it into a new multipart upload in two ranges, and the 20 MiB result is copied to its
      // content address in two ranges too.
      const first = content(17 * MiB, 'first node');
      const second = content(3 * MiB, 'second node');
      const id = await store.startUpload();
      assert.deepEqual(await store.appendUpload(id, Readable.from(chunks(first, MiB)), 0), {
        ok: true,
        offset: first.length,
      });
      const other = new S3BlobStore(options());
      try {
        assert.deepEqual(await other.appendUpload(id, Readable.from([second]), first.length), {
          ok: true,
          offset: first.length + second.length,
        });
        const whole = Buffer.concat([first, second]);
        assert.deepEqual(await other.commitUpload(id, sha256(whole)), { ok: true, size: whole.length });
        await assertUploadGone(id);
        const reader = await store.open(sha256(whole));
        assert.ok(reader);
        assert.equal(sha256(await readAll(reader.stream)), sha256(whole));
      } finally {
        await other.close();
      }
    });

    it('keeps the full parts and the tail a failing source delivered', async () => {
      const delivered = content(6 * MiB, 'failing');
      const id = await store.startUpload();
      const pending = chunks(delivered, MiB);
      const failing = new Readable({
        read() {
          const next = pending.shift();
          if (next) this.push(next);
          else this.destroy(new Error('client went away'));
        },
      });
      await assert.rejects(store.appendUpload(id, failing, 0), /client went away/);
      assert.deepEqual(await store.uploadStatus(id), { offset: delivered.length });
      assert.equal((await state(id)).multipart?.parts.length, 1);
      // A fresh node must agree with the hash this one kept.
      const other = new S3BlobStore(options());
      try {
        const rest = Buffer.from('resumed');
        assert.deepEqual(await other.appendUpload(id, Readable.from([rest]), delivered.length), {
          ok: true,
          offset: delivered.length + rest.length,
        });
        const whole = Buffer.concat([delivered, rest]);
        assert.deepEqual(await other.commitUpload(id, sha256(whole)), { ok: true, size: whole.length });
      } finally {
        await other.close();
      }
    });

    it('publishes nothing on a digest mismatch of a multipart upload, and cancel removes every temporary', async () => {
      const bytes = content(7 * MiB, 'mismatch');
      const id = await store.startUpload();
      await store.appendUpload(id, Readable.from(chunks(bytes, MiB)), 0);
      const claimed = sha256(Buffer.from('not it'));
      assert.deepEqual(await store.commitUpload(id, claimed), {
        ok: false,
        reason: 'digest-mismatch',
        actual: sha256(bytes),
      });
      assert.equal(await store.stat(claimed), undefined);
      assert.equal(await store.stat(sha256(bytes)), undefined);
      assert.deepEqual(await store.uploadStatus(id), { offset: bytes.length }, 'the upload is still there');
      await store.cancelUpload(id);
      assert.equal(await store.uploadStatus(id), undefined);
      await assertUploadGone(id);
    });

    it('cancels an upload with a multipart upload in progress', async () => {
      const id = await store.startUpload();
      await store.appendUpload(id, Readable.from(chunks(content(6 * MiB, 'cancel'), MiB)), 0);
      assert.equal((await multipartUploads(admin, bucket, `registry/uploads/${id}/`)).length, 1);
      await store.cancelUpload(id);
      await assertUploadGone(id);
    });

    it('commits an empty upload', async () => {
      const id = await store.startUpload();
      const empty = sha256(Buffer.alloc(0));
      assert.deepEqual(await store.commitUpload(id, empty), { ok: true, size: 0 });
      assert.deepEqual(await store.stat(empty), { digest: empty, size: 0 });
    });

    it('answers presigned URLs only when redirect is on, and they fetch the blob', async () => {
      const bytes = Buffer.from('fetched straight from S3');
      const digest = sha256(bytes);
      await store.putVerified(digest, bytes);
      assert.equal(await store.redirectUrl(digest), undefined);
      const redirecting = new S3BlobStore({ ...options(), redirect: true, redirectExpiresSeconds: 60 });
      try {
        const url = await redirecting.redirectUrl(digest);
        assert.ok(url);
        assert.match(url, /X-Amz-Signature=/);
        const response = await fetch(url);
        assert.equal(response.status, 200);
        assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes));
      } finally {
        await redirecting.close();
      }
    });

    it('fails init when the bucket does not exist', async () => {
      const absent = new S3BlobStore({ ...options(), bucket: `${runId}-absent` });
      try {
        await assert.rejects(absent.init());
      } finally {
        await absent.close();
      }
    });

    it('lists only blob keys, with sizes and times', async () => {
      // A stray object under blobs/ is not a blob.
      await admin.send(
        new PutObjectCommand({ Bucket: bucket, Key: 'registry/blobs/sha256/zz/not-a-digest', Body: 'x' }),
      );
      const listed = [];
      for await (const blob of store.list()) listed.push(blob);
      assert.ok(listed.length >= 3);
      for (const blob of listed) {
        assert.match(blob.digest, /^sha(256:[0-9a-f]{64}|512:[0-9a-f]{128})$/);
        assert.ok(blob.modifiedAt.getTime() > Date.now() - 3_600_000);
      }
      assert.ok(listed.some((blob) => blob.size === 12 * MiB));
    });
  });
}
