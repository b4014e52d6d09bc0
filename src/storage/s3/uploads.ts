import { createHash, randomUUID, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { digestAlgorithm, makeDigest, type Digest, type DigestAlgorithm } from '../../core/oci/digest.js';
import type { AppendResult, CommitResult } from '../../core/ports.js';
import { KeyedMutex } from '../keyed-mutex.js';
import type { S3Layout } from './layout.js';
import { isNotFound, type CompletedPart, type ObjectRef, type S3Objects } from './objects.js';
import { maxParts, minPartBytes, type ResolvedOptions } from './options.js';
import { PartBuffer } from './part-buffer.js';
import { newState, readState, stateObjects, writeState, type UploadState } from './upload-state.js';

/** A SHA-256 over an upload's bytes, valid while the upload's state still has this token. */
interface RunningHash {
  token: string;
  hash: Hash;
}

/**
 * Uploads in progress, as S3 multipart uploads described by a state object (upload-state.ts). Every
 * change is written in the same order: new bytes first (a part, a tail object), then the state that
 * points at them, then deletion of what the old state pointed at. A failure or crash at any step leaves
 * the previous state whole, so another request, on this node or another, continues from it.
 *
 * Calls for one upload are serialised within this process. Across nodes the registry protocol sends one
 * request at a time per upload (each chunk names the offset it starts at), so no cross-node lock is taken.
 */
export class S3Uploads {
  private readonly running = new Map<string, RunningHash>();
  private readonly locks = new KeyedMutex();

  constructor(
    private readonly objects: S3Objects,
    private readonly layout: S3Layout,
    private readonly options: ResolvedOptions,
  ) {}

  async start(): Promise<string> {
    const id = randomUUID();
    const state = newState({});
    await writeState(this.objects, this.layout, id, state);
    this.running.set(id, { token: state.token, hash: createHash('sha256') });
    return id;
  }

  async status(id: string): Promise<{ offset: number } | undefined> {
    const state = await readState(this.objects, this.layout, id);
    return state === undefined ? undefined : { offset: state.offset };
  }

  append(id: string, source: Readable, offset: number): Promise<AppendResult> {
    if (!this.layout.isUploadId(id)) return Promise.resolve({ ok: false, reason: 'unknown-upload' });
    return this.locks.run(id, async () => {
      const stored = await readState(this.objects, this.layout, id);
      if (stored === undefined) return { ok: false, reason: 'unknown-upload' };
      if (stored.offset !== offset) return { ok: false, reason: 'offset-mismatch', offset: stored.offset };
      const running = await this.runningHash(id, stored);
      const hash = running.hash;
      let state = running.state;
      // Until the append completes the hash may cover bytes the state does not; forget it meanwhile, so a
      // failure that is not handled below makes the next request re-hash what was really kept.
      this.running.delete(id);
      const buffer = new PartBuffer();
      if (state.tail !== undefined) buffer.push(await this.readTail(state.tail));
      let failure: { error: unknown } | undefined;
      try {
        for await (const chunk of source) {
          const bytes = toBuffer(chunk);
          hash.update(bytes);
          buffer.push(bytes);
          while (buffer.size >= this.options.partSize) {
            state = await this.storePart(id, state, buffer.peek(this.options.partSize));
            buffer.drop(this.options.partSize);
          }
        }
      } catch (error) {
        failure = { error };
      }
      // What arrived but does not fill a part becomes the new tail, after a failure too: everything the
      // hash has seen is then stored, and the client can resume at the offset the state reports.
      if (buffer.size !== (state.tail?.size ?? 0)) {
        try {
          state = await this.storeTail(id, state, buffer);
        } catch (error) {
          throw failure === undefined ? error : failure.error;
        }
      }
      this.running.set(id, { token: state.token, hash });
      if (failure !== undefined) throw failure.error;
      return { ok: true, offset: state.offset };
    });
  }

  commit(id: string, expected: Digest): Promise<CommitResult> {
    if (!this.layout.isUploadId(id)) return Promise.resolve({ ok: false, reason: 'unknown-upload' });
    return this.locks.run(id, async () => {
      let state = await readState(this.objects, this.layout, id);
      if (state === undefined) return { ok: false, reason: 'unknown-upload' };
      const algorithm = digestAlgorithm(expected);
      const known = this.running.get(id);
      const hash = algorithm === 'sha256' && known?.token === state.token ? known.hash : undefined;
      this.running.delete(id);
      state = await this.finish(id, state);
      const data = state.base ?? state.tail;
      const actual =
        hash !== undefined
          ? makeDigest('sha256', hash.digest('hex'))
          : await this.hashObject(data, algorithm);
      // A mismatch leaves the upload as it is (one readable object), for the caller to cancel.
      if (actual !== expected) return { ok: false, reason: 'digest-mismatch', actual };
      const target = this.layout.blobKey(expected);
      // Identical content is stored once; a second commit of it only drops its own copy.
      if ((await this.objects.size(target)) === undefined) {
        if (data === undefined) await this.objects.put(target, Buffer.alloc(0));
        else await this.objects.copy(data, target, this.options.copyLimit);
      }
      await this.remove(id, state);
      return { ok: true, size: state.offset };
    });
  }

  async cancel(id: string): Promise<void> {
    if (!this.layout.isUploadId(id)) return;
    await this.locks.run(id, async () => {
      this.running.delete(id);
      // An unreadable state must not make the upload impossible to remove.
      const state = await readState(this.objects, this.layout, id).catch(() => undefined);
      await this.remove(id, state);
    });
  }

  close(): void {
    this.running.clear();
  }

  /** The running SHA-256 for the state, re-hashing the stored bytes when this process lacks it. */
  private async runningHash(id: string, state: UploadState): Promise<{ state: UploadState; hash: Hash }> {
    const known = this.running.get(id);
    if (known !== undefined && known.token === state.token) return { state, hash: known.hash };
    // Parts of a multipart upload cannot be read back; complete it into a plain object that can.
    const readable = state.multipart === undefined ? state : await this.consolidate(id, state);
    const hash = createHash('sha256');
    for (const object of [readable.base, readable.tail])
      if (object !== undefined) await this.hashInto(hash, object);
    return { state: readable, hash };
  }

  /** Uploads one full part, then records it; the old tail, now inside the part, is deleted. */
  private async storePart(id: string, state: UploadState, body: Buffer): Promise<UploadState> {
    const current = await this.ensureMultipart(id, state);
    const multipart = current.multipart!;
    // One part number stays free for the tail at commit.
    if (multipart.parts.length + 1 >= maxParts) {
      throw new RangeError(
        `upload ${id} exceeds ${maxParts} parts of ${this.options.partSize} bytes; raise partSize`,
      );
    }
    const part = await this.objects.uploadPart(
      multipart.key,
      multipart.uploadId,
      multipart.parts.length + 1,
      body,
    );
    const next = newState({
      base: current.base,
      multipart: { ...multipart, parts: [...multipart.parts, part] },
    });
    await writeState(this.objects, this.layout, id, next);
    if (current.tail !== undefined) await this.objects.delete(current.tail.key);
    return next;
  }

  /** Replaces the tail with everything in the buffer (the old tail's bytes are at its start). */
  private async storeTail(id: string, state: UploadState, buffer: PartBuffer): Promise<UploadState> {
    const key = this.layout.temporaryKey(id, 'tail');
    await this.objects.put(key, buffer.peek(buffer.size));
    const next = newState({ base: state.base, multipart: state.multipart, tail: { key, size: buffer.size } });
    await writeState(this.objects, this.layout, id, next);
    if (state.tail !== undefined) await this.objects.delete(state.tail.key);
    return next;
  }

  /** Starts the multipart upload if there is none, with the base (if any) copied in server-side. */
  private async ensureMultipart(id: string, state: UploadState): Promise<UploadState> {
    if (state.multipart !== undefined) return state;
    const key = this.layout.temporaryKey(id, 'data');
    const uploadId = await this.objects.createMultipart(key);
    const parts =
      state.base === undefined
        ? []
        : await this.objects.copyIntoParts(state.base, key, uploadId, 1, this.options.copyLimit);
    const next = newState({ base: state.base, multipart: { uploadId, key, parts }, tail: state.tail });
    await writeState(this.objects, this.layout, id, next);
    return next;
  }

  /** Completes the multipart upload into a plain object that becomes the base; the tail stays. */
  private async consolidate(id: string, state: UploadState): Promise<UploadState> {
    const multipart = state.multipart!;
    const data = await this.complete(multipart, multipart.parts);
    const next = newState({
      ...(data === undefined ? { base: state.base } : { base: data }),
      tail: state.tail,
    });
    await writeState(this.objects, this.layout, id, next);
    if (state.base !== undefined && state.base.key !== next.base?.key)
      await this.objects.delete(state.base.key);
    return next;
  }

  /**
   * Puts all of an upload's bytes into one readable object (or none, when it is empty): a state without
   * multipart upload and with at most one of base and tail.
   */
  private async finish(id: string, state: UploadState): Promise<UploadState> {
    if (state.multipart === undefined && (state.base === undefined || state.tail === undefined)) return state;
    const current = await this.ensureMultipart(id, state);
    const multipart = current.multipart!;
    const parts = [...multipart.parts];
    if (current.tail !== undefined) {
      const body = await this.readTail(current.tail);
      parts.push(await this.objects.uploadPart(multipart.key, multipart.uploadId, parts.length + 1, body));
    }
    const data = await this.complete(multipart, parts);
    // A small result is a tail, so that a later append may load it into memory.
    const next = newState(
      data === undefined ? {} : data.size >= minPartBytes ? { base: data } : { tail: data },
    );
    await writeState(this.objects, this.layout, id, next);
    for (const key of stateObjects(current)) if (key !== data?.key) await this.objects.delete(key);
    return next;
  }

  /**
   * Completes a multipart upload; undefined when it has no parts (S3 refuses to complete those, so it is
   * aborted). A retry after a crash between completing and writing the state finds the upload gone and
   * the object present, and goes on with it.
   */
  private async complete(
    multipart: NonNullable<UploadState['multipart']>,
    parts: readonly CompletedPart[],
  ): Promise<ObjectRef | undefined> {
    if (parts.length === 0) {
      await this.objects.abortMultipart(multipart.key, multipart.uploadId);
      return undefined;
    }
    const size = parts.reduce((sum, part) => sum + part.size, 0);
    try {
      await this.objects.completeMultipart(multipart.key, multipart.uploadId, parts);
    } catch (error) {
      if (!isNotFound(error) || (await this.objects.size(multipart.key)) !== size) throw error;
    }
    return { key: multipart.key, size };
  }

  /** Deletes the state first (the upload is then unknown everywhere), then every temporary. */
  private async remove(id: string, state: UploadState | undefined): Promise<void> {
    const folder = this.layout.uploadFolder(id);
    await this.objects.delete(this.layout.stateKey(id));
    if (state?.multipart !== undefined)
      await this.objects.abortMultipart(state.multipart.key, state.multipart.uploadId);
    // Multipart uploads and objects a crash left behind without a state pointing at them.
    for await (const upload of this.objects.multipartUploads(folder)) {
      await this.objects.abortMultipart(upload.key, upload.uploadId);
    }
    for await (const object of this.objects.list(folder)) {
      if (object.Key !== undefined) await this.objects.delete(object.Key);
    }
  }

  private async readTail(tail: ObjectRef): Promise<Buffer> {
    const bytes = await this.objects.readBuffer(tail.key);
    if (bytes?.length !== tail.size)
      throw new Error(`upload tail ${tail.key} is missing or has the wrong size`);
    return bytes;
  }

  private async hashInto(hash: Hash, object: ObjectRef): Promise<void> {
    const read = await this.objects.read(object.key);
    if (read === undefined) throw new Error(`upload data ${object.key} is missing`);
    let size = 0;
    for await (const chunk of read.stream) {
      const bytes = toBuffer(chunk);
      hash.update(bytes);
      size += bytes.length;
    }
    if (size !== object.size)
      throw new Error(`upload data ${object.key} has ${size} bytes, expected ${object.size}`);
  }

  private async hashObject(object: ObjectRef | undefined, algorithm: DigestAlgorithm): Promise<Digest> {
    const hash = createHash(algorithm);
    if (object !== undefined) await this.hashInto(hash, object);
    return makeDigest(algorithm, hash.digest('hex'));
  }
}

/** Request bodies yield Buffers; a stream in string or Uint8Array mode is accepted too. */
function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new TypeError('upload sources must yield bytes');
}
