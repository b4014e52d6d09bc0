import { randomUUID } from 'node:crypto';
import { digestAlgorithm, digestHex, parseDigest, type Digest } from '../../core/oci/digest.js';

const uploadIdGrammar = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/**
 * Where things live in the bucket. Blob keys are built only from validated digests and upload keys only
 * from ids matching a UUID, so no request can name a key outside the store's prefix:
 *
 *   <prefix>blobs/<alg>/<hex[0:2]>/<hex>      content-addressed, visible only once verified
 *   <prefix>uploads/<id>/state.json           the upload's state (see upload-state.ts)
 *   <prefix>uploads/<id>/<kind>-<uuid>        its temporaries: pending tail, completed data
 *
 * Temporaries get a fresh name on every write, so a new state can point at new bytes before the old ones
 * are deleted, and a crash between the two never leaves a state pointing at a missing object.
 */
export class S3Layout {
  readonly blobsPrefix: string;
  readonly uploadsPrefix: string;

  constructor(prefix: string) {
    // A prefix without its slash ("berth") would give "berthblobs/": callers mean a folder.
    const folder = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
    this.blobsPrefix = `${folder}blobs/`;
    this.uploadsPrefix = `${folder}uploads/`;
  }

  blobKey(digest: Digest): string {
    const hex = digestHex(digest);
    return `${this.blobsPrefix}${digestAlgorithm(digest)}/${hex.slice(0, 2)}/${hex}`;
  }

  /** The digest a key under blobsPrefix stands for; undefined for anything that is not a blob key. */
  digestOf(key: string): Digest | undefined {
    if (!key.startsWith(this.blobsPrefix)) return undefined;
    const [algorithm, fanout, hex, ...rest] = key.slice(this.blobsPrefix.length).split('/');
    if (algorithm === undefined || hex === undefined || rest.length > 0) return undefined;
    const parsed = parseDigest(`${algorithm}:${hex}`);
    return parsed.ok && fanout === hex.slice(0, 2) ? parsed.digest : undefined;
  }

  isUploadId(id: string): boolean {
    return uploadIdGrammar.test(id);
  }

  /** Folder of one upload; callers check `isUploadId` first. */
  uploadFolder(id: string): string {
    return `${this.uploadsPrefix}${id}/`;
  }

  stateKey(id: string): string {
    return `${this.uploadFolder(id)}state.json`;
  }

  /** A new, unused key for an upload's temporary object. */
  temporaryKey(id: string, kind: 'tail' | 'data'): string {
    return `${this.uploadFolder(id)}${kind}-${randomUUID()}`;
  }
}
