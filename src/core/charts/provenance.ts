/**
 * The chart a Helm provenance file is for. A provenance file is a PGP clear-signed message whose body
 * is the chart's Chart.yaml followed by the archive's digest; like ChartMuseum, Berth reads `name:` and
 * `version:` from the body (it does not verify the signature: that is the client's job, `helm verify`).
 */
export function parseProvenance(content: Buffer): { name: string; version: string } | undefined {
  const text = content.toString('utf8');
  if (!text.startsWith('-----BEGIN PGP SIGNED MESSAGE-----')) return undefined;
  const name = /\nname:[ \t]*(\S[^\r\n]*)/.exec(text)?.[1]?.trim();
  const version = /\nversion:[ \t]*(\S[^\r\n]*)/.exec(text)?.[1]?.trim();
  if (name === undefined || version === undefined) return undefined;
  return { name: unquote(name), version: unquote(version) };
}

function unquote(value: string): string {
  const match = /^(["'])(.*)\1$/.exec(value);
  return match === null ? value : match[2]!;
}
