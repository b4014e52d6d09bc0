import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
  type S3Client,
  type _Object,
} from '@aws-sdk/client-s3';
import { Readable } from 'node:stream';

export interface ObjectRef {
  key: string;
  size: number;
}

export interface CompletedPart {
  number: number;
  etag: string;
  size: number;
}

/** The S3 calls the store makes, over one bucket, with "not found" turned into `undefined`. */
export class S3Objects {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
  ) {}

  /** Fails when the bucket is missing or the credentials do not reach it. */
  async checkBucket(): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucket }));
  }

  async size(key: string): Promise<number | undefined> {
    const head = await this.client
      .send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }))
      .catch(ignoreNotFound);
    return head === undefined ? undefined : (head.ContentLength ?? 0);
  }

  /** A body stream and the object's total size; `range` is inclusive. */
  async read(
    key: string,
    range?: { start: number; end: number },
  ): Promise<{ size: number; stream: Readable } | undefined> {
    const output = await this.client
      .send(
        new GetObjectCommand({
          Bucket: this.bucket,
          Key: key,
          ...(range && { Range: `bytes=${range.start}-${range.end}` }),
        }),
      )
      .catch(ignoreNotFound);
    if (output === undefined) return undefined;
    const body = output.Body;
    // In Node the SDK returns an http.IncomingMessage; anything else means a browser runtime.
    if (!(body instanceof Readable)) throw new Error(`GetObject ${key}: the body is not a Node stream`);
    const total = output.ContentRange === undefined ? undefined : /\/(\d+)$/.exec(output.ContentRange)?.[1];
    return { size: total === undefined ? (output.ContentLength ?? 0) : Number(total), stream: body };
  }

  /** A small object (a tail or a state) read whole. */
  async readBuffer(key: string): Promise<Buffer | undefined> {
    const object = await this.read(key);
    if (object === undefined) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of object.stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async put(key: string, body: Buffer, contentType = 'application/octet-stream'): Promise<void> {
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: key,
        Body: body,
        ContentLength: body.length,
        ContentType: contentType,
      }),
    );
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key })).catch(ignoreNotFound);
  }

  async *list(prefix: string): AsyncIterable<_Object> {
    let token: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(token && { ContinuationToken: token }),
        }),
      );
      yield* page.Contents ?? [];
      token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
  }

  /** Ids of the multipart uploads in progress under a prefix, with their keys. */
  async *multipartUploads(prefix: string): AsyncIterable<{ key: string; uploadId: string }> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    for (;;) {
      const page = await this.client.send(
        new ListMultipartUploadsCommand({
          Bucket: this.bucket,
          Prefix: prefix,
          ...(keyMarker !== undefined && { KeyMarker: keyMarker }),
          ...(uploadIdMarker !== undefined && { UploadIdMarker: uploadIdMarker }),
        }),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key !== undefined && upload.UploadId !== undefined)
          yield { key: upload.Key, uploadId: upload.UploadId };
      }
      if (page.IsTruncated !== true) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  async createMultipart(key: string): Promise<string> {
    const output = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        ContentType: 'application/octet-stream',
      }),
    );
    if (output.UploadId === undefined)
      throw new Error(`CreateMultipartUpload ${key}: no UploadId in the answer`);
    return output.UploadId;
  }

  async uploadPart(key: string, uploadId: string, number: number, body: Buffer): Promise<CompletedPart> {
    const output = await this.client.send(
      new UploadPartCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        PartNumber: number,
        Body: body,
        ContentLength: body.length,
      }),
    );
    if (output.ETag === undefined) throw new Error(`UploadPart ${key} #${number}: no ETag in the answer`);
    return { number, etag: output.ETag, size: body.length };
  }

  /**
   * Copies `source` into parts of a multipart upload, server-side, in ranges of at most `limit` bytes
   * (S3 copies at most 5 GiB per part). The ranges differ by at most one byte, so with `limit` at least
   * twice the 5 MiB minimum none is too small, even when more parts follow.
   */
  async copyIntoParts(
    source: ObjectRef,
    key: string,
    uploadId: string,
    firstNumber: number,
    limit: number,
  ): Promise<CompletedPart[]> {
    const count = Math.max(1, Math.ceil(source.size / limit));
    const span = Math.floor(source.size / count);
    const longer = source.size % count; // the first `longer` ranges take one byte more
    const parts: CompletedPart[] = [];
    let start = 0;
    for (let i = 0; i < count; i++) {
      const end = start + span + (i < longer ? 1 : 0) - 1;
      const output = await this.client.send(
        new UploadPartCopyCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          PartNumber: firstNumber + i,
          CopySource: this.copySource(source.key),
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      );
      const etag = output.CopyPartResult?.ETag;
      if (etag === undefined)
        throw new Error(`UploadPartCopy ${key} #${firstNumber + i}: no ETag in the answer`);
      parts.push({ number: firstNumber + i, etag, size: end - start + 1 });
      start = end + 1;
    }
    return parts;
  }

  async completeMultipart(key: string, uploadId: string, parts: readonly CompletedPart[]): Promise<void> {
    await this.client.send(
      new CompleteMultipartUploadCommand({
        Bucket: this.bucket,
        Key: key,
        UploadId: uploadId,
        MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.number, ETag: part.etag })) },
      }),
    );
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    await this.client
      .send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }))
      .catch(ignoreNotFound);
  }

  /** Server-side copy of a whole object; objects above `limit` go through a multipart upload of copied parts. */
  async copy(source: ObjectRef, target: string, limit: number): Promise<void> {
    if (source.size <= limit) {
      await this.client.send(
        new CopyObjectCommand({
          Bucket: this.bucket,
          Key: target,
          CopySource: this.copySource(source.key),
          ContentType: 'application/octet-stream',
          MetadataDirective: 'REPLACE',
        }),
      );
      return;
    }
    const uploadId = await this.createMultipart(target);
    try {
      await this.completeMultipart(
        target,
        uploadId,
        await this.copyIntoParts(source, target, uploadId, 1, limit),
      );
    } catch (error) {
      await this.abortMultipart(target, uploadId).catch(() => undefined);
      throw error;
    }
  }

  private copySource(key: string): string {
    // x-amz-copy-source is "bucket/key", URL-encoded; the slashes between segments stay as they are.
    return `${this.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
  }
}

/** A missing key or upload; a missing bucket (a configuration error) is not "not found" but an error. */
export function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    error.name !== 'NoSuchBucket' &&
    (error.$metadata.httpStatusCode === 404 || ['NoSuchKey', 'NotFound', 'NoSuchUpload'].includes(error.name))
  );
}

function ignoreNotFound(error: unknown): undefined {
  if (isNotFound(error)) return undefined;
  throw error;
}
