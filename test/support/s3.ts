import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type S3Client,
} from '@aws-sdk/client-s3';

/** The S3 server the tests use, from the environment (see scripts/run-tests.js, which can start one). */
export const s3Variables = ['S3_ENDPOINT', 'S3_ACCESS_KEY', 'S3_SECRET_KEY', 'S3_REGION'] as const;

/** A fresh bucket, and a function that empties and removes it. */
export async function freshBucket(admin: S3Client, bucket: string): Promise<() => Promise<void>> {
  await admin.send(new CreateBucketCommand({ Bucket: bucket }));
  return async () => {
    for (const upload of (await admin.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ??
      []) {
      await admin.send(
        new AbortMultipartUploadCommand({ Bucket: bucket, Key: upload.Key, UploadId: upload.UploadId }),
      );
    }
    let remaining: string[];
    while ((remaining = await keys(admin, bucket, '')).length > 0) {
      for (const key of remaining) await admin.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
    await admin.send(new DeleteBucketCommand({ Bucket: bucket }));
  };
}

/** Keys under a prefix (first page: tests look at few). */
export async function keys(client: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (page.Contents ?? []).map((object) => object.Key ?? '');
}
