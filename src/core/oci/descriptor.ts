import { createHash } from 'node:crypto';
import { RegistryError } from '../errors.js';
import { digestAlgorithm, parseDigest, type Digest } from './digest.js';

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
}

/** An OCI content descriptor, as found in manifests, indexes and `subject` fields. */
export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: Platform;
  urls?: string[];
}

type Json = Record<string, unknown>;

function invalid(message: string, detail?: unknown): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message, detail);
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Validates one descriptor found at `where` (a JSON path for the error message). */
export function readDescriptor(value: unknown, where: string): Descriptor {
  if (!isObject(value)) throw invalid(`${where} must be an object`);
  const { mediaType, digest, size, artifactType, annotations, platform, urls, data } = value;
  if (typeof mediaType !== 'string' || mediaType === '') throw invalid(`${where}.mediaType must be a string`);
  if (typeof digest !== 'string') throw invalid(`${where}.digest must be a string`);
  const parsed = parseDigest(digest);
  if (!parsed.ok) throw invalid(`${where}.digest: ${parsed.reason}`);
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size < 0) {
    throw invalid(`${where}.size must be a non-negative integer`);
  }
  const descriptor: Descriptor = { mediaType, digest: parsed.digest, size };
  if (artifactType !== undefined) {
    if (typeof artifactType !== 'string') throw invalid(`${where}.artifactType must be a string`);
    descriptor.artifactType = artifactType;
  }
  if (annotations !== undefined)
    descriptor.annotations = readAnnotations(annotations, `${where}.annotations`);
  if (platform !== undefined) descriptor.platform = readPlatform(platform, `${where}.platform`);
  if (urls !== undefined) {
    if (!Array.isArray(urls) || !urls.every((u) => typeof u === 'string')) {
      throw invalid(`${where}.urls must be a list of strings`);
    }
    descriptor.urls = urls;
  }
  if (data !== undefined) checkEmbeddedData(data, descriptor, where);
  return descriptor;
}

export function readAnnotations(value: unknown, where: string): Record<string, string> {
  if (!isObject(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw invalid(`${where} must map strings to strings`);
  }
  return value as Record<string, string>;
}

function readPlatform(value: unknown, where: string): Platform {
  if (!isObject(value)) throw invalid(`${where} must be an object`);
  if (typeof value.architecture !== 'string' || typeof value.os !== 'string') {
    throw invalid(`${where} needs architecture and os strings`);
  }
  return value as unknown as Platform;
}

/** A descriptor's `data` field is the content itself: it must hash to the digest and match the size. */
function checkEmbeddedData(data: unknown, descriptor: Descriptor, where: string): void {
  if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data)) {
    throw invalid(`${where}.data must be base64`);
  }
  const bytes = Buffer.from(data, 'base64');
  const actual = `${digestAlgorithm(descriptor.digest)}:${createHash(digestAlgorithm(descriptor.digest)).update(bytes).digest('hex')}`;
  if (bytes.length !== descriptor.size || actual !== descriptor.digest) {
    throw invalid(`${where}.data does not match its digest and size`);
  }
}
