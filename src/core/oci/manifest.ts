import { RegistryError } from '../errors.js';
import { isObject, readAnnotations, readDescriptor, type Descriptor } from './descriptor.js';
import { bareMediaType, imageManifestTypes, indexTypes, mediaTypes } from './media-types.js';

/** What Berth needs to know about a manifest; the exact bytes are kept separately and never re-serialised. */
export interface ParsedManifest {
  /** The media type the manifest is stored and served with. */
  mediaType: string;
  kind: 'image' | 'index';
  /** `artifactType`, else the config media type: what the referrers API reports. */
  artifactType?: string;
  config?: Descriptor;
  /** Blobs the manifest needs in the repository: config and layers (foreign layers with `urls` excluded). */
  blobs: Descriptor[];
  /** Manifests an index points at. */
  manifests: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

function invalid(message: string): RegistryError {
  return new RegistryError('MANIFEST_INVALID', message);
}

/**
 * Parses and validates manifest bytes. The media type is the body's `mediaType` when present (clients
 * should set it), else the request's Content-Type (Helm omits the field), else inferred from the shape.
 */
export function parseManifest(bytes: Buffer, contentType: string | undefined): ParsedManifest {
  let body: unknown;
  try {
    body = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw invalid('manifest is not valid JSON');
  }
  if (!isObject(body)) throw invalid('manifest must be a JSON object');
  const declared = body.mediaType;
  if (declared !== undefined && typeof declared !== 'string') throw invalid('mediaType must be a string');
  const headerType = bareMediaType(contentType);
  if (
    declared === mediaTypes.dockerSchema1 ||
    declared === mediaTypes.dockerSchema1Signed ||
    body.schemaVersion === 1
  ) {
    throw new RegistryError(
      'MANIFEST_INVALID',
      'Docker schema 1 manifests are not supported; push schema 2 or OCI',
    );
  }
  if (body.schemaVersion !== 2) throw invalid('schemaVersion must be 2');

  const mediaType = declared ?? pickHeaderType(headerType) ?? inferType(body);
  if (
    declared !== undefined &&
    headerType !== undefined &&
    isManifestType(headerType) &&
    headerType !== declared
  ) {
    throw invalid(`mediaType "${declared}" does not match Content-Type "${headerType}"`);
  }
  if (imageManifestTypes.has(mediaType)) return parseImageManifest(body, mediaType);
  if (indexTypes.has(mediaType)) return parseIndex(body, mediaType);
  throw invalid(`unsupported manifest media type "${mediaType.slice(0, 200)}"`);
}

function isManifestType(type: string): boolean {
  return imageManifestTypes.has(type) || indexTypes.has(type);
}

function pickHeaderType(headerType: string | undefined): string | undefined {
  return headerType !== undefined && isManifestType(headerType) ? headerType : undefined;
}

function inferType(body: Record<string, unknown>): string {
  if (Array.isArray(body.manifests)) return mediaTypes.ociIndex;
  if (body.config !== undefined) return mediaTypes.ociManifest;
  throw invalid('manifest has no mediaType and no recognisable shape');
}

function readCommon(body: Record<string, unknown>): Pick<ParsedManifest, 'subject' | 'annotations'> & {
  artifactType?: string;
} {
  const common: Pick<ParsedManifest, 'subject' | 'annotations'> & { artifactType?: string } = {};
  if (body.subject !== undefined) common.subject = readDescriptor(body.subject, 'subject');
  if (body.annotations !== undefined) common.annotations = readAnnotations(body.annotations, 'annotations');
  if (body.artifactType !== undefined) {
    if (typeof body.artifactType !== 'string') throw invalid('artifactType must be a string');
    common.artifactType = body.artifactType;
  }
  return common;
}

function parseImageManifest(body: Record<string, unknown>, mediaType: string): ParsedManifest {
  const common = readCommon(body);
  const config = readDescriptor(body.config, 'config');
  if (!Array.isArray(body.layers)) throw invalid('layers must be a list');
  const layers = body.layers.map((layer, i) => readDescriptor(layer, `layers[${i}]`));
  // image-spec says artifactType MUST be set when the config is the empty descriptor; registries in the
  // wild (and the conformance suite) accept it anyway, so Berth reports the config type instead.
  // Foreign (non-distributable) layers carry `urls` and live elsewhere: they need not be in the registry.
  const blobs = [config, ...layers.filter((layer) => layer.urls === undefined || layer.urls.length === 0)];
  return {
    ...common,
    mediaType,
    kind: 'image',
    artifactType: common.artifactType ?? config.mediaType,
    config,
    blobs,
    manifests: [],
  };
}

function parseIndex(body: Record<string, unknown>, mediaType: string): ParsedManifest {
  const common = readCommon(body);
  if (!Array.isArray(body.manifests)) throw invalid('manifests must be a list');
  const manifests = body.manifests.map((entry, i) => readDescriptor(entry, `manifests[${i}]`));
  return { ...common, mediaType, kind: 'index', blobs: [], manifests };
}
