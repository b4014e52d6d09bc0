import semver from 'semver';

/**
 * Chart versions: strict SemVer 2 (https://semver.org, no leading `v`, no missing parts), ordered by
 * SemVer precedence, and the mapping to OCI tags Helm uses (`+` is not allowed in a tag, so it becomes `_`).
 */

// The regular expression semver.org publishes for SemVer 2.0.0.
const semverGrammar =
  /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-((?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)(?:\.(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*))*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$/;

/** Whether `value` is a strict SemVer 2 version (`1.2.3`, `1.0.0-rc.1+build.5`; not `v1.2.3` or `1.2`). */
export function isStrictSemver(value: string): boolean {
  return value.length <= 256 && semverGrammar.test(value);
}

/**
 * SemVer precedence for sorting (build metadata does not count, as in Helm); versions equal in precedence
 * fall back to plain text order so that the order is total and stable.
 */
export function compareVersions(a: string, b: string): number {
  const byPrecedence = semver.compare(a, b);
  if (byPrecedence !== 0) return byPrecedence;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Newest first, as Helm sorts index entries and tag lists. */
export function sortVersionsDescending<T>(items: T[], versionOf: (item: T) => string): T[] {
  return items.sort((x, y) => compareVersions(versionOf(y), versionOf(x)));
}

/** The OCI tag Helm pushes a chart version under. */
export function tagForVersion(version: string): string {
  return version.replaceAll('+', '_');
}

/** The chart version a tag stands for (`_` back to `+`), if it is strict SemVer 2. */
export function versionForTag(tag: string): string | undefined {
  const version = tag.replaceAll('_', '+');
  return isStrictSemver(version) ? version : undefined;
}

/**
 * Picks the version to fetch from those available, as `helm pull --version` does: an exact version
 * (a `+` or `_` form) is taken as is when present; otherwise `wanted` is a SemVer range (Masterminds
 * syntax: commas separate conditions that must all hold) and the highest match wins. An empty or absent
 * range means the newest stable version.
 */
export function resolveVersion(available: string[], wanted: string | undefined): string | undefined {
  const exact = wanted?.replaceAll('_', '+');
  if (exact !== undefined && available.includes(exact)) return exact;
  if (exact !== undefined && isStrictSemver(exact)) return undefined;
  const range = wanted === undefined || wanted.trim() === '' ? '*' : wanted.replaceAll(',', ' ');
  if (semver.validRange(range) === null)
    throw new Error(`"${wanted}" is neither a version nor a version range`);
  const sorted = sortVersionsDescending([...available], (v) => v);
  return sorted.find((version) => semver.satisfies(version, range));
}
