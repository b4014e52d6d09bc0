import type { Command } from 'commander';

/** Where and as whom the admin commands talk to Berth's management API. */
export interface Connection {
  url: string;
  username?: string;
  password?: string;
  output: 'table' | 'json';
}

export interface ConnectionFlags {
  url?: string;
  username?: string;
  password?: string;
  output?: string;
}

/** Adds --url, --username, --password and --output to an admin command. */
export function withConnection(command: Command): Command {
  return command
    .option('--url <url>', 'Berth base URL (BERTH_URL, default http://localhost:5000)')
    .option('-u, --username <name>', 'user or robot to act as (BERTH_USERNAME)')
    .option('--password <password>', 'its password or secret (BERTH_PASSWORD; prefer the variable)')
    .option('-o, --output <format>', 'table or json', 'table');
}

export function connectionOf(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const output = flags.output ?? 'table';
  if (output !== 'table' && output !== 'json')
    throw new CliError(`--output must be table or json, not ${output}`);
  const username = flags.username ?? env.BERTH_USERNAME;
  const password = flags.password ?? env.BERTH_PASSWORD;
  return {
    url: (flags.url ?? env.BERTH_URL ?? 'http://localhost:5000').replace(/\/+$/, ''),
    output,
    ...(username !== undefined && username !== '' && { username }),
    ...(password !== undefined && { password }),
  };
}

/** A failure to report to the user as one line (exit code 1), never with a stack trace. */
export class CliError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliError';
  }
}

export interface Reply {
  status: number;
  headers: Headers;
  body: unknown;
}

/** Calls `/api/v2.0`; a Harbor error body becomes a CliError with its code and message. */
export async function api(
  connection: Connection,
  method: string,
  path: string,
  body?: unknown,
  extraHeaders: Record<string, string> = {},
): Promise<Reply> {
  const headers: Record<string, string> = { accept: 'application/json', ...extraHeaders };
  if (connection.username !== undefined) {
    const credentials = `${connection.username}:${connection.password ?? ''}`;
    headers.authorization = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res: Response;
  try {
    res = await fetch(`${connection.url}/api/v2.0${path}`, {
      method,
      headers,
      ...(body !== undefined && { body: JSON.stringify(body) }),
    });
  } catch (error) {
    throw new CliError(`cannot reach ${connection.url}: ${(error as Error).message}`);
  }
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = text === '' ? undefined : JSON.parse(text);
  } catch {
    // keep the text
  }
  if (res.status >= 400) {
    const first = (parsed as { errors?: { code?: string; message?: string }[] } | undefined)?.errors?.[0];
    const detail = first === undefined ? text.slice(0, 200) : `${first.code}: ${first.message}`;
    throw new CliError(`${method} ${path} failed with ${res.status} (${detail})`);
  }
  return { status: res.status, headers: res.headers, body: parsed };
}

/** The id at the end of a `Location` header. */
export function idFromLocation(reply: Reply): number | undefined {
  const match = /\/(\d+)$/.exec(reply.headers.get('location') ?? '');
  return match ? Number(match[1]) : undefined;
}

/** Fetches every page of a list endpoint (page_size 100). */
export async function listAll<T>(connection: Connection, path: string): Promise<T[]> {
  const items: T[] = [];
  for (let page = 1; page <= 1000; page++) {
    const separator = path.includes('?') ? '&' : '?';
    const reply = await api(connection, 'GET', `${path}${separator}page=${page}&page_size=100`);
    const batch = reply.body as T[];
    items.push(...batch);
    const total = Number(reply.headers.get('x-total-count') ?? items.length);
    if (batch.length < 100 || items.length >= total) break;
  }
  return items;
}
