import type { ByteRange } from '../../core/ports.js';

export type RangeRequest =
  { kind: 'whole' } | { kind: 'partial'; range: ByteRange } | { kind: 'unsatisfiable' };

/**
 * Reads a `Range: bytes=...` header against a blob of `size` bytes (RFC 9110 section 14). Forms:
 * `a-b` (clipped to the end), `a-`, and the suffix `-n`. A range that starts past the end, or whose last
 * byte precedes its first, is unsatisfiable (416), as the conformance suite expects. Multiple ranges
 * and other units are ignored and the whole blob is served, which the RFC allows.
 */
export function readRange(header: string | undefined, size: number): RangeRequest {
  if (header === undefined) return { kind: 'whole' };
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return { kind: 'whole' };
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') return { kind: 'whole' };
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    return { kind: 'partial', range: { start: Math.max(0, size - suffix), end: size - 1 } };
  }
  const start = Number(first);
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  if (start >= size || (last !== '' && Number(last) < start)) return { kind: 'unsatisfiable' };
  return { kind: 'partial', range: { start, end } };
}

/**
 * Reads a chunk's `Content-Range: <start>-<end>` (inclusive, no unit, as the distribution spec writes
 * it; a `bytes ` prefix is tolerated). Undefined when the header is absent; null when malformed.
 */
export function readContentRange(header: string | undefined): ByteRange | undefined | null {
  if (header === undefined) return undefined;
  const match = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!match) return null;
  const start = Number(match[1]);
  const end = Number(match[2]);
  if (end < start) return null;
  return { start, end };
}

/** The `Range` header of an upload response: bare `0-<last byte>`, and `0-0` for an empty upload. */
export function uploadRangeHeader(offset: number): string {
  return `0-${Math.max(0, offset - 1)}`;
}
