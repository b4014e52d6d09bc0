// A minimal HTTP/1.1 keep-alive client over node:net for the load generator's large bodies. Each
// connection reads into one reusable 1 MiB buffer (`onread`), parses the response in place and hands body
// bytes to the caller synchronously, so a verified pull costs little more than the hashing itself: no
// buffer per socket read, no stream machinery per chunk. Requests send their head and body pieces corked,
// without copying the pieces. One request at a time per connection (no pipelining).
import { connect, type Socket } from 'node:net';

export interface LeanRequest {
  method: string;
  /** Path and query, as sent on the request line. */
  path: string;
  /** Header names in any case; `host` and `content-length` are added when absent. */
  headers?: Record<string, string>;
  /** The body as pieces, written in order without being concatenated or copied. */
  body?: readonly Buffer[];
  /**
   * Receives the response body as it arrives, synchronously from the socket's read callback. The chunk is
   * a view into the connection's reusable read buffer: it is valid only during the call (copy it to keep
   * it). Throwing from it fails the request and discards the connection. When absent, the body is
   * collected (small bodies only: errors, JSON) and returned as `body`.
   */
  onBody?: (chunk: Buffer) => void;
}

export interface LeanResponse {
  status: number;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The collected body, when the request had no `onBody`. */
  body?: Buffer;
}

/** A failed request; `beforeResponse` when not one byte of the response had arrived. */
export class LeanHttpError extends Error {
  constructor(
    message: string,
    readonly beforeResponse: boolean,
  ) {
    super(message);
    this.name = 'LeanHttpError';
  }
}

const readBufferBytes = 1 << 20;
const maxHeadBytes = 64 * 1024;
const maxChunkLineBytes = 4096;
const maxCollectedBytes = 16 * 1024 * 1024;
const timeoutMs = 120_000;
const headEnd = Buffer.from('\r\n\r\n', 'latin1');
const forbidden = /[\r\n]/;

type Framing =
  | { kind: 'none' }
  | { kind: 'length'; remaining: number }
  | { kind: 'chunked'; state: 'size' | 'data' | 'data-end' | 'trailer'; remaining: number; line: string }
  | { kind: 'close' };

interface Pending {
  request: LeanRequest;
  resolve: (response: LeanResponse) => void;
  reject: (error: Error) => void;
  /** The request's last write has completed. */
  written: boolean;
  /** Some byte of the response has arrived. */
  responding: boolean;
  status: number;
  headers: Record<string, string>;
  reusable: boolean;
  collected: Buffer[];
  collectedBytes: number;
  bodyBytes: number;
}

/** One keep-alive HTTP/1.1 connection; see the file comment. */
export class LeanConnection {
  private readonly socket: Socket;
  private readonly authority: string;
  private pending: Pending | undefined;
  private broken = false;
  private served = 0;
  /** The response head received so far (copied out of the read buffer); empty outside the head. */
  private head: Buffer = Buffer.alloc(0);
  private framing: Framing | undefined;

  constructor(
    readonly host: string,
    readonly port: number,
  ) {
    this.authority = `${host.includes(':') ? `[${host}]` : host}:${port}`;
    this.socket = connect({
      host,
      port,
      onread: {
        buffer: Buffer.allocUnsafe(readBufferBytes),
        callback: (bytes: number, buffer: Uint8Array) => {
          this.onRead(buffer as Buffer, bytes);
          return true;
        },
      },
    });
    this.socket.setNoDelay(true);
    this.socket.setTimeout(timeoutMs);
    this.socket.unref();
    this.socket.on('error', (error) => this.fail(`connection to ${this.authority}: ${error.message}`));
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.fail(`connection to ${this.authority} closed`));
    this.socket.on('timeout', () => {
      if (this.pending) this.fail(`no progress for ${timeoutMs / 1000} s from ${this.authority}`);
      else this.destroy();
    });
  }

  /** Open, not failed, no `Connection: close` seen: may take another request once idle. */
  get usable(): boolean {
    return !this.broken;
  }

  get idle(): boolean {
    return this.pending === undefined;
  }

  /** Requests completed on this connection. */
  get requestsServed(): number {
    return this.served;
  }

  destroy(): void {
    this.broken = true;
    this.socket.destroy();
  }

  /** Sends one request; the connection must be idle and usable. */
  request(request: LeanRequest): Promise<LeanResponse> {
    if (this.pending) return Promise.reject(new Error('LeanConnection: a request is already in progress'));
    if (this.broken)
      return Promise.reject(new LeanHttpError(`connection to ${this.authority} is closed`, true));
    let head: string;
    try {
      head = requestHead(request, this.authority);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return new Promise<LeanResponse>((resolve, reject) => {
      const pending: Pending = {
        request,
        resolve,
        reject,
        written: false,
        responding: false,
        status: 0,
        headers: {},
        reusable: true,
        collected: [],
        collectedBytes: 0,
        bodyBytes: 0,
      };
      this.pending = pending;
      this.head = Buffer.alloc(0);
      this.framing = undefined;
      this.socket.ref();
      const written = () => {
        pending.written = true;
      };
      const pieces = request.body ?? [];
      this.socket.cork();
      this.socket.write(head, 'latin1', pieces.length === 0 ? written : undefined);
      pieces.forEach((piece, i) => this.socket.write(piece, i === pieces.length - 1 ? written : undefined));
      this.socket.uncork();
    });
  }

  private onRead(buffer: Buffer, bytes: number): void {
    const pending = this.pending;
    if (pending === undefined) {
      // Bytes while no request is out: the server is confused or broken; never reuse this connection.
      this.destroy();
      return;
    }
    pending.responding = true;
    const chunk = buffer.subarray(0, bytes);
    try {
      let at = 0;
      while (at < chunk.length && this.pending === pending) {
        at =
          this.framing === undefined ? this.readHead(pending, chunk, at) : this.readBody(pending, chunk, at);
      }
      if (at < chunk.length && this.pending !== pending && !this.broken) {
        // More bytes than the response framed: nothing else can come on this connection.
        this.destroy();
      }
    } catch (error) {
      this.fail((error as Error).message);
    }
  }

  /** Consumes head bytes from `chunk[at..]`; returns where the head ended (or the chunk's end). */
  private readHead(pending: Pending, chunk: Buffer, at: number): number {
    const rest = chunk.subarray(at);
    const end = findHeadEnd(this.head, rest);
    if (end < 0) {
      if (this.head.length + rest.length > maxHeadBytes)
        throw new Error(`response head larger than ${maxHeadBytes} bytes`);
      this.head = Buffer.concat([this.head, rest]);
      return chunk.length;
    }
    const text = Buffer.concat([this.head, rest.subarray(0, end)]).toString('latin1');
    this.head = Buffer.alloc(0);
    const lines = text.split('\r\n');
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!statusLine)
      throw new Error(`malformed status line ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
    const status = Number(statusLine[2]);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      if (line === '') continue;
      const colon = line.indexOf(':');
      if (colon <= 0) throw new Error(`malformed header line ${JSON.stringify(line.slice(0, 80))}`);
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
    }
    if (status >= 100 && status < 200) {
      if (status === 101) throw new Error('unexpected 101 Switching Protocols');
      return at + end; // interim response (100 Continue): the real one follows
    }
    pending.status = status;
    pending.headers = headers;
    const connection = (headers.connection ?? '').toLowerCase();
    if (/\bclose\b/.test(connection) || (statusLine[1] === '0' && !/\bkeep-alive\b/.test(connection)))
      pending.reusable = false;
    const method = pending.request.method.toUpperCase();
    const encoding = (headers['transfer-encoding'] ?? '').toLowerCase();
    if (method === 'HEAD' || status === 204 || status === 304) {
      this.framing = { kind: 'none' };
    } else if (encoding !== '') {
      if (!/(^|,)\s*chunked\s*$/.test(encoding)) throw new Error(`unsupported transfer-encoding ${encoding}`);
      this.framing = { kind: 'chunked', state: 'size', remaining: 0, line: '' };
    } else if (headers['content-length'] !== undefined) {
      const length = headers['content-length'];
      if (!/^\d+$/.test(length)) throw new Error(`malformed content-length ${JSON.stringify(length)}`);
      this.framing = { kind: 'length', remaining: Number(length) };
    } else {
      this.framing = { kind: 'close' };
      pending.reusable = false;
    }
    if (this.framing.kind === 'none' || (this.framing.kind === 'length' && this.framing.remaining === 0))
      this.complete(pending);
    return at + end;
  }

  /** Consumes body bytes from `chunk[at..]`; returns where this response's bytes ended. */
  private readBody(pending: Pending, chunk: Buffer, at: number): number {
    const framing = this.framing!;
    switch (framing.kind) {
      case 'none':
        return at; // unreachable: completed with the head
      case 'close':
        this.deliver(pending, chunk.subarray(at));
        return chunk.length;
      case 'length': {
        const take = Math.min(framing.remaining, chunk.length - at);
        this.deliver(pending, chunk.subarray(at, at + take));
        framing.remaining -= take;
        if (framing.remaining === 0) this.complete(pending);
        return at + take;
      }
      case 'chunked':
        return this.readChunked(pending, framing, chunk, at);
    }
  }

  private readChunked(
    pending: Pending,
    framing: Extract<Framing, { kind: 'chunked' }>,
    chunk: Buffer,
    at: number,
  ): number {
    while (at < chunk.length && this.pending === pending) {
      if (framing.state === 'data') {
        const take = Math.min(framing.remaining, chunk.length - at);
        this.deliver(pending, chunk.subarray(at, at + take));
        framing.remaining -= take;
        at += take;
        if (framing.remaining === 0) {
          framing.state = 'data-end';
          framing.line = '';
        }
        continue;
      }
      // size line, the CRLF after a chunk's data, or a trailer line: one line, possibly split across reads
      const newline = chunk.indexOf(10, at);
      const end = newline < 0 ? chunk.length : newline;
      framing.line += chunk.toString('latin1', at, end);
      if (framing.line.length > maxChunkLineBytes) throw new Error('chunked body: line too long');
      at = newline < 0 ? chunk.length : newline + 1;
      if (newline < 0) break;
      const line = framing.line.endsWith('\r') ? framing.line.slice(0, -1) : framing.line;
      framing.line = '';
      if (framing.state === 'data-end') {
        if (line !== '') throw new Error('chunked body: no CRLF after chunk data');
        framing.state = 'size';
      } else if (framing.state === 'size') {
        const size = /^([0-9a-fA-F]+)[ \t]*(;.*)?$/.exec(line);
        if (!size || size[1]!.length > 12)
          throw new Error(`chunked body: bad chunk size ${JSON.stringify(line)}`);
        framing.remaining = parseInt(size[1]!, 16);
        framing.state = framing.remaining === 0 ? 'trailer' : 'data';
      } else if (line === '') {
        this.complete(pending); // the empty line after the last chunk and any trailers
      }
    }
    return at;
  }

  private deliver(pending: Pending, bytes: Buffer): void {
    if (bytes.length === 0) return;
    pending.bodyBytes += bytes.length;
    if (pending.request.onBody) {
      pending.request.onBody(bytes);
      return;
    }
    pending.collectedBytes += bytes.length;
    if (pending.collectedBytes > maxCollectedBytes)
      throw new Error(`response body larger than ${maxCollectedBytes} bytes without onBody`);
    pending.collected.push(Buffer.from(bytes)); // copy: the read buffer is reused
  }

  private complete(pending: Pending): void {
    this.pending = undefined;
    this.framing = undefined;
    this.served++;
    // A response before the whole request was written (an early error) leaves the request stream in an
    // unknown state: do not reuse the connection.
    if (!pending.reusable || !pending.written) this.destroy();
    else this.socket.unref();
    pending.resolve({
      status: pending.status,
      headers: pending.headers,
      ...(pending.request.onBody === undefined && { body: Buffer.concat(pending.collected) }),
    });
  }

  private onEnd(): void {
    const pending = this.pending;
    if (pending && this.framing?.kind === 'close') this.complete(pending);
    else this.fail(`${this.authority} closed the connection`);
  }

  /** Marks the connection broken and rejects the request in progress, if any. */
  private fail(reason: string): void {
    this.broken = true;
    this.socket.destroy();
    const pending = this.pending;
    if (pending === undefined) return;
    this.pending = undefined;
    this.framing = undefined;
    const { method, path } = pending.request;
    const where = !pending.responding
      ? 'before any response'
      : pending.status === 0
        ? 'in the response head'
        : `after ${pending.bodyBytes} body bytes of an HTTP ${pending.status} response`;
    pending.reject(
      new LeanHttpError(`${method} ${path.slice(0, 120)}: ${reason} ${where}`, !pending.responding),
    );
  }
}

/**
 * A few keep-alive connections to one origin (`http://host:port`): a request takes an idle connection or
 * opens a new one (up to `maxConnections`, then waits), and gives it back when its response is complete.
 * Broken connections are dropped. A GET or HEAD that fails on a reused connection before any response
 * byte (the server closed it while idle) is retried once on a new connection.
 */
export class LeanPool {
  private readonly host: string;
  private readonly port: number;
  private readonly all = new Set<LeanConnection>();
  private readonly idle: LeanConnection[] = [];
  private readonly waiting: ((connection: LeanConnection) => void)[] = [];
  private closed = false;

  constructor(
    origin: string,
    readonly maxConnections: number,
  ) {
    const url = new URL(origin);
    if (url.protocol !== 'http:') throw new Error(`LeanPool: only http:// origins, not ${origin}`);
    this.host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    this.port = url.port === '' ? 80 : Number(url.port);
    if (!(maxConnections >= 1)) throw new Error('LeanPool needs at least one connection');
  }

  /** Connections open now (busy or idle). */
  get size(): number {
    return this.all.size;
  }

  async request(request: LeanRequest): Promise<LeanResponse> {
    const connection = await this.acquire();
    const reused = connection.requestsServed > 0;
    try {
      return await connection.request(request);
    } catch (error) {
      const method = request.method.toUpperCase();
      if (
        reused &&
        error instanceof LeanHttpError &&
        error.beforeResponse &&
        (method === 'GET' || method === 'HEAD') &&
        !this.closed
      ) {
        this.release(connection);
        const fresh = await this.acquire(true);
        try {
          return await fresh.request(request);
        } finally {
          this.release(fresh);
        }
      }
      throw error;
    } finally {
      this.release(connection);
    }
  }

  /** Destroys every connection; requests in progress or waiting fail. */
  close(): void {
    this.closed = true;
    for (const connection of this.all) connection.destroy();
    this.all.clear();
    this.idle.length = 0;
    const waiting = this.waiting.splice(0);
    for (const wake of waiting) wake(this.open()); // opened closed: its request fails at once
  }

  private acquire(fresh = false): Promise<LeanConnection> {
    if (!fresh) {
      while (this.idle.length > 0) {
        const connection = this.idle.pop()!;
        if (connection.usable) return Promise.resolve(connection);
        this.all.delete(connection);
      }
    }
    if (this.all.size < this.maxConnections || this.closed) return Promise.resolve(this.open());
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private open(): LeanConnection {
    const connection = new LeanConnection(this.host, this.port);
    if (this.closed) connection.destroy();
    else this.all.add(connection);
    return connection;
  }

  /** Gives a connection back (idempotent): to a waiting request, to the idle list, or away if broken. */
  private release(connection: LeanConnection): void {
    if (!this.all.has(connection) || !connection.idle || this.idle.includes(connection)) return;
    if (!connection.usable) {
      this.all.delete(connection);
      const wake = this.waiting.shift();
      if (wake) wake(this.open());
      return;
    }
    const wake = this.waiting.shift();
    if (wake) wake(connection);
    else this.idle.push(connection);
  }
}

/** The request line and headers, with `host` and `content-length` filled in. */
function requestHead(request: LeanRequest, authority: string): string {
  if (forbidden.test(request.method) || forbidden.test(request.path) || /\s/.test(request.path))
    throw new Error(`LeanConnection: invalid request line ${request.method} ${request.path}`);
  let head = `${request.method} ${request.path} HTTP/1.1\r\n`;
  let host = false;
  let length: string | undefined;
  for (const [name, value] of Object.entries(request.headers ?? {})) {
    if (forbidden.test(name) || forbidden.test(value) || name.includes(':'))
      throw new Error(`LeanConnection: invalid header ${JSON.stringify(name)}`);
    const lower = name.toLowerCase();
    if (lower === 'host') host = true;
    if (lower === 'content-length') length = value.trim();
    if (lower === 'transfer-encoding') throw new Error('LeanConnection: only Content-Length request bodies');
    head += `${name}: ${value}\r\n`;
  }
  if (!host) head += `host: ${authority}\r\n`;
  if (request.body !== undefined) {
    const total = request.body.reduce((sum, piece) => sum + piece.length, 0);
    if (length === undefined) head += `content-length: ${total}\r\n`;
    else if (length !== String(total))
      throw new Error(`LeanConnection: content-length ${length} but the body has ${total} bytes`);
  } else if (length !== undefined && length !== '0') {
    throw new Error(`LeanConnection: content-length ${length} without a body`);
  }
  return `${head}\r\n`;
}

/**
 * Where the head ends in `chunk` (the index just after its blank line), given the head bytes `before` it
 * that hold no blank line yet; -1 when it does not end in `chunk`.
 */
export function findHeadEnd(before: Buffer, chunk: Buffer): number {
  for (let k = Math.min(3, before.length); k >= 1; k--) {
    if (chunk.length < 4 - k) continue;
    let match = true;
    for (let i = 0; i < k && match; i++) match = before[before.length - k + i] === headEnd[i];
    for (let j = 0; j < 4 - k && match; j++) match = chunk[j] === headEnd[k + j];
    if (match) return 4 - k;
  }
  const index = chunk.indexOf(headEnd);
  return index < 0 ? -1 : index + 4;
}
