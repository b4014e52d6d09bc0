import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { makeDigest, type Digest } from '../../src/core/oci/digest.js';
import type { BlobStore } from '../../src/core/ports.js';

export interface BlobStoreHarness {
  store: BlobStore;
  /** A second store over the same backing storage, as another process or node would see it. */
  reopen(): Promise<BlobStore>;
  dispose(): Promise<void>;
}

export function sha256(bytes: Buffer): Digest {
  return makeDigest('sha256', createHash('sha256').update(bytes).digest('hex'));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * The behaviour every BlobStore must have. Each backend's test file calls this with its own harness;
 * a new backend is done when this suite passes against it.
 */
export function blobStoreContract(name: string, create: () => Promise<BlobStoreHarness>): void {
  describe(`BlobStore contract: ${name}`, () => {
    let harness: BlobStoreHarness;
    let store: BlobStore;
    before(async () => {
      harness = await create();
      store = harness.store;
    });
    after(async () => harness.dispose());

    it('publishes an upload only after its digest is verified', async () => {
      const content = Buffer.from('contract: a small blob');
      const digest = sha256(content);
      const id = await store.startUpload();
      assert.deepEqual(await store.appendUpload(id, Readable.from([content]), 0), {
        ok: true,
        offset: content.length,
      });
      assert.equal(await store.stat(digest), undefined, 'not visible before commit');
      assert.deepEqual(await store.commitUpload(id, digest), { ok: true, size: content.length });
      assert.deepEqual(await store.stat(digest), { digest, size: content.length });
      assert.equal(await store.uploadStatus(id), undefined, 'the upload is gone once committed');
    });

    it('takes chunks in order, reports the offset, and refuses a chunk at the wrong offset', async () => {
      const parts = [Buffer.alloc(70_000, 1), Buffer.alloc(30_000, 2), Buffer.from('tail')];
      const whole = Buffer.concat(parts);
      const id = await store.startUpload();
      assert.deepEqual(await store.uploadStatus(id), { offset: 0 });
      let offset = 0;
      for (const part of parts) {
        const result = await store.appendUpload(id, Readable.from([part]), offset);
        offset += part.length;
        assert.deepEqual(result, { ok: true, offset });
      }
      assert.deepEqual(await store.appendUpload(id, Readable.from([Buffer.from('x')]), 5), {
        ok: false,
        reason: 'offset-mismatch',
        offset,
      });
      assert.deepEqual(await store.uploadStatus(id), { offset });
      assert.deepEqual(await store.commitUpload(id, sha256(whole)), { ok: true, size: whole.length });
      const reader = await store.open(sha256(whole));
      assert.ok(reader);
      assert.equal(reader.size, whole.length);
      assert.deepEqual(await readAll(reader.stream), whole);
    });

    it('rejects a commit whose digest does not match and publishes nothing', async () => {
      const content = Buffer.from('the real content');
      const claimed = sha256(Buffer.from('something else'));
      const id = await store.startUpload();
      await store.appendUpload(id, Readable.from([content]), 0);
      const result = await store.commitUpload(id, claimed);
      assert.deepEqual(result, { ok: false, reason: 'digest-mismatch', actual: sha256(content) });
      assert.equal(await store.stat(claimed), undefined);
      assert.equal(await store.stat(sha256(content)), undefined);
      await store.cancelUpload(id);
    });

    it('continues an upload from another instance, re-hashing what it did not see', async () => {
      const first = Buffer.alloc(100_000, 7);
      const second = Buffer.from('second half');
      const id = await store.startUpload();
      await store.appendUpload(id, Readable.from([first]), 0);
      const other = await harness.reopen();
      try {
        assert.deepEqual(await other.uploadStatus(id), { offset: first.length });
        assert.deepEqual(await other.appendUpload(id, Readable.from([second]), first.length), {
          ok: true,
          offset: first.length + second.length,
        });
        const whole = Buffer.concat([first, second]);
        assert.deepEqual(await other.commitUpload(id, sha256(whole)), { ok: true, size: whole.length });
        assert.deepEqual(await store.stat(sha256(whole)), { digest: sha256(whole), size: whole.length });
      } finally {
        await other.close();
      }
    });

    it('keeps an upload usable after a source that fails midway, with nothing published', async () => {
      const id = await store.startUpload();
      const failing = new Readable({
        read() {
          this.push(Buffer.alloc(10_000, 3));
          this.destroy(new Error('client went away'));
        },
      });
      await assert.rejects(store.appendUpload(id, failing, 0));
      const status = await store.uploadStatus(id);
      assert.ok(status, 'the session survives');
      const kept = status.offset;
      const rest = Buffer.from('resumed');
      assert.deepEqual(await store.appendUpload(id, Readable.from([rest]), kept), {
        ok: true,
        offset: kept + rest.length,
      });
      const whole = Buffer.concat([Buffer.alloc(kept, 3), rest]);
      assert.deepEqual(await store.commitUpload(id, sha256(whole)), { ok: true, size: whole.length });
    });

    it('reads ranges', async () => {
      const content = Buffer.from(Array.from({ length: 2048 }, (_, i) => i % 251));
      const digest = sha256(content);
      await store.putVerified(digest, content);
      const reader = await store.open(digest, { start: 500, end: 1499 });
      assert.ok(reader);
      assert.equal(reader.size, 2048);
      assert.deepEqual(await readAll(reader.stream), content.subarray(500, 1500));
    });

    it('stores identical content once and deletes it', async () => {
      const content = Buffer.from('duplicate me');
      const digest = sha256(content);
      for (let i = 0; i < 2; i++) {
        const id = await store.startUpload();
        await store.appendUpload(id, Readable.from([content]), 0);
        assert.deepEqual(await store.commitUpload(id, digest), { ok: true, size: content.length });
      }
      const listed: Digest[] = [];
      for await (const blob of store.list()) if (blob.digest === digest) listed.push(blob.digest);
      assert.deepEqual(listed, [digest]);
      assert.equal(await store.delete(digest), true);
      assert.equal(await store.delete(digest), false);
      assert.equal(await store.open(digest), undefined);
    });

    it('cancels uploads and answers unknown ones as unknown', async () => {
      const id = await store.startUpload();
      await store.cancelUpload(id);
      assert.equal(await store.uploadStatus(id), undefined);
      assert.deepEqual(await store.appendUpload(id, Readable.from([Buffer.from('x')]), 0), {
        ok: false,
        reason: 'unknown-upload',
      });
      assert.deepEqual(await store.commitUpload('not-an-upload', sha256(Buffer.from(''))), {
        ok: false,
        reason: 'unknown-upload',
      });
      assert.equal(await store.uploadStatus('../../etc/passwd'), undefined);
    });

    it('verifies sha512 digests too', async () => {
      const content = Buffer.from('sha512 content');
      const digest = makeDigest('sha512', createHash('sha512').update(content).digest('hex'));
      const id = await store.startUpload();
      await store.appendUpload(id, Readable.from([content]), 0);
      assert.deepEqual(await store.commitUpload(id, digest), { ok: true, size: content.length });
      assert.deepEqual(await store.stat(digest), { digest, size: content.length });
    });
  });
}
