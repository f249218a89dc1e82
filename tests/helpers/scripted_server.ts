/**
 * A scripted fake FTP server on 127.0.0.1 that speaks raw FTP (control
 * connection and passive data connections) so tests can make a server do
 * exactly what a real one does at its worst: split replies, 1xx lines,
 * refusals, drops, quota errors, endless replies.
 *
 * Two ways to use it:
 * - `startScriptedServer(async (peer) => { ... })`: the test writes the whole
 *   conversation, one `peer` per control connection (`peer.reply`,
 *   `peer.expect`, `peer.passive`, `peer.raw`).
 * - `startFakeFtp({ on: { RNTO: ... } })`: a small working FTP server with
 *   files in memory (`server.files`); `on` replaces the answer to chosen
 *   commands, `busyDuringTransfer` answers like pure-ftpd to commands that
 *   arrive while a transfer is open. `serveFtp(peer, options)` continues a
 *   scripted conversation with that default behaviour.
 *
 * Every command each connection received is in `peer.commands` (and, for all
 * connections in order, `server.commands`). An assertion that fails inside a
 * script fails the test at `server.close()`; socket errors from a client that
 * went away do not.
 *
 * @module
 */

import { concat } from "./stream_bytes.ts";

const encoder = new TextEncoder();

/** One control connection, from the server's side. */
export class Peer {
  /** Commands received on this connection, in order. */
  readonly commands: string[] = [];
  /** Commands that arrived while a transfer was open (see `busyDuringTransfer`). */
  readonly duringTransfer: string[] = [];
  #lines: string[] = [];
  #waiters: ((line: string | null) => void)[] = [];
  #eof = false;
  #closed = false;
  /** The passive listener announced by the last EPSV/PASV, not yet used. */
  #listener?: Deno.TcpListener;
  /** REST offset for the next STOR. */
  rest = 0;
  /** The path of the last RNFR. */
  renameFrom?: string;

  constructor(readonly conn: Deno.TcpConn, readonly server: ScriptedServer) {
    conn.setNoDelay(true);
    this.#pump();
  }

  async #pump(): Promise<void> {
    const decoder = new TextDecoder();
    const buf = new Uint8Array(64 * 1024);
    let text = "";
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        text += decoder.decode(buf.subarray(0, n), { stream: true });
        for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n")) {
          const line = text.slice(0, i).replace(/\r$/, "");
          text = text.slice(i + 1);
          this.commands.push(line);
          this.server.commands.push(line);
          const waiter = this.#waiters.shift();
          if (waiter) waiter(line);
          else this.#lines.push(line);
        }
      }
    } catch { /* reset or closed here */ }
    this.#eof = true;
    for (const w of this.#waiters.splice(0)) w(null);
  }

  /** The next command line; null once the client has closed the connection. */
  next(): Promise<string | null> {
    const line = this.#lines.shift();
    if (line !== undefined) return Promise.resolve(line);
    if (this.#eof) return Promise.resolve(null);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Command lines already received and not yet taken, taken now. */
  takeBuffered(): string[] {
    return this.#lines.splice(0);
  }

  /** The next command must be `verb` (any case); returns its argument. */
  async expect(verb: string): Promise<string> {
    const line = await this.next();
    if (line === null) throw new Error(`expected ${verb}, the client closed the connection`);
    const [got, ...rest] = line.split(" ");
    if (got.toUpperCase() !== verb.toUpperCase()) {
      throw new Error(`expected ${verb}, got ${JSON.stringify(line)}`);
    }
    return rest.join(" ");
  }

  /** Sends reply lines, each ended with CRLF. */
  async reply(...lines: string[]): Promise<void> {
    await this.raw(lines.map((l) => l + "\r\n").join(""));
  }

  /** Sends bytes as they are (no line end added). */
  async raw(data: string | Uint8Array): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    for (let off = 0; off < bytes.length;) off += await this.conn.write(bytes.subarray(off));
  }

  /** Greeting and login as a client of this project does it; FEAT lists `features`. */
  async login(features: string[] = DEFAULT_FEATURES): Promise<void> {
    await this.reply("220 scripted server ready");
    await this.expect("USER");
    await this.reply("331 password please");
    await this.expect("PASS");
    await this.reply("230 logged in");
    await this.expect("OPTS");
    await this.reply("200 UTF8 on");
    await this.expect("TYPE");
    await this.reply("200 binary");
    await this.expect("FEAT");
    await this.reply(featReply(features));
  }

  /** Expects EPSV or PASV and answers it with a fresh passive listener. */
  async passive(verb: "EPSV" | "PASV" = "EPSV"): Promise<void> {
    await this.expect(verb);
    await this.reply(this.openPassive(verb));
  }

  /** Opens a passive listener; returns the 229/227 reply announcing it. */
  openPassive(verb: "EPSV" | "PASV"): string {
    this.#listener?.close();
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (this.#listener.addr as Deno.NetAddr).port;
    return verb === "EPSV"
      ? `229 Entering Extended Passive Mode (|||${port}|)`
      : `227 Entering Passive Mode (127,0,0,1,${port >> 8},${port & 255})`;
  }

  /** Whether an EPSV/PASV listener waits for its data connection. */
  get hasPassive(): boolean {
    return this.#listener !== undefined;
  }

  /** Accepts the data connection the last EPSV/PASV announced. */
  async acceptData(): Promise<Deno.TcpConn> {
    const listener = this.#listener;
    if (!listener) throw new Error("no passive listener");
    this.#listener = undefined;
    try {
      return await listener.accept();
    } finally {
      listener.close();
    }
  }

  /** Accepts the data connection and reads it to its end. */
  async receive(): Promise<Uint8Array> {
    return await readAll(await this.acceptData());
  }

  get closed(): boolean {
    return this.#closed;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#listener?.close();
    this.#listener = undefined;
    try {
      this.conn.close();
    } catch { /* already closed */ }
  }
}

/** Reads a connection to its end (FIN or reset), then closes it. */
export async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  const buf = new Uint8Array(256 * 1024);
  try {
    for (;;) {
      const n = await conn.read(buf);
      if (n === null) break;
      parts.push(buf.slice(0, n));
    }
  } catch { /* reset: what arrived is what counts */ }
  try {
    conn.close();
  } catch { /* already closed */ }
  return concat(parts);
}

export { concat };

export const DEFAULT_FEATURES = ["EPSV", "PASV", "REST STREAM", "SIZE", "MDTM", "UTF8"];

/** A 211 FEAT reply listing `features`. */
export function featReply(features: string[]): string {
  return ["211-Features:", ...features.map((f) => ` ${f}`), "211 End"].join("\r\n");
}

export type Script = (peer: Peer, index: number) => Promise<void>;

/** The listening server; one `Script` run per accepted control connection. */
export class ScriptedServer {
  readonly port: number;
  readonly peers: Peer[] = [];
  /** Every command received, all connections, in arrival order. */
  readonly commands: string[] = [];
  /** Files stored by `serveFtp`, by absolute path. */
  readonly files = new Map<string, Uint8Array>();
  readonly dirs = new Set<string>(["/"]);
  #listener: Deno.TcpListener;
  #runs: Promise<void>[] = [];
  #errors: unknown[] = [];

  constructor(readonly script: Script) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.port = (this.#listener.addr as Deno.NetAddr).port;
    this.#accept();
  }

  async #accept(): Promise<void> {
    try {
      for (;;) {
        const conn = await this.#listener.accept();
        const peer = new Peer(conn, this);
        this.peers.push(peer);
        this.#runs.push(
          this.script(peer, this.peers.length - 1)
            .catch((e) => {
              if (!isSocketError(e)) this.#errors.push(e);
            })
            .finally(() => peer.close()),
        );
      }
    } catch { /* listener closed */ }
  }

  /** Connection options for a client of this server. */
  get login() {
    return {
      host: "127.0.0.1",
      port: this.port,
      user: "u",
      password: "p",
      secure: false as const,
    };
  }

  /** Stops listening, closes every connection, waits for the scripts; throws a script's failure. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    for (const p of this.peers) p.close();
    await Promise.all(this.#runs);
    if (this.#errors.length > 0) throw this.#errors[0];
  }
}

export function startScriptedServer(script: Script): ScriptedServer {
  return new ScriptedServer(script);
}

function isSocketError(e: unknown): boolean {
  return e instanceof Deno.errors.BrokenPipe || e instanceof Deno.errors.ConnectionReset ||
    e instanceof Deno.errors.BadResource || e instanceof Deno.errors.Interrupted ||
    e instanceof Deno.errors.NotConnected;
}

/** A command handler: true (or nothing) when it answered, false to let the default answer. */
export type Handler = (arg: string, peer: Peer) => Promise<boolean | void> | boolean | void;

export interface FakeFtpOptions {
  /** FEAT lines. */
  features?: string[];
  /** Lines sent before the `220` greeting (e.g. `120 ready in 1 minute`). */
  beforeGreeting?: string[];
  /** Answers for chosen commands (upper-case verb) in place of the default. */
  on?: Record<string, Handler>;
  /**
   * Act like pure-ftpd: a command that arrives while a transfer is open (before
   * the `226` is sent) is answered `500 Unknown command` and dropped; recorded
   * in `peer.duringTransfer`. The end of a transfer waits `settleMs` (default
   * 200) for such commands before the `226`.
   */
  busyDuringTransfer?: boolean;
  settleMs?: number;
}

/** A small working FTP server, files in memory, with chosen answers replaced. */
export function startFakeFtp(options: FakeFtpOptions = {}): ScriptedServer {
  return startScriptedServer(async (peer) => {
    if (options.beforeGreeting) await peer.reply(...options.beforeGreeting);
    await peer.reply("220 fake FTP server ready");
    await serveFtp(peer, options);
  });
}

/** Answers commands like a plain FTP server (after the greeting) until the client leaves. */
export async function serveFtp(peer: Peer, options: FakeFtpOptions = {}): Promise<void> {
  const { files, dirs } = peer.server;
  for (;;) {
    const line = await peer.next();
    if (line === null) return;
    const [word, ...rest] = line.split(" ");
    const verb = word.toUpperCase();
    const arg = rest.join(" ");
    const handler = options.on?.[verb];
    if (handler && (await handler(arg, peer)) !== false) continue;
    switch (verb) {
      case "USER":
        await peer.reply("331 password please");
        break;
      case "PASS":
        await peer.reply("230 logged in");
        break;
      case "OPTS":
      case "TYPE":
      case "NOOP":
        await peer.reply("200 ok");
        break;
      case "FEAT":
        await peer.reply(featReply(options.features ?? DEFAULT_FEATURES));
        break;
      case "EPSV":
      case "PASV":
        await peer.reply(peer.openPassive(verb));
        break;
      case "REST":
        peer.rest = Number(arg);
        await peer.reply(`350 restarting at ${arg}`);
        break;
      case "STOR":
      case "APPE":
        await store(peer, verb, arg, options);
        break;
      case "SIZE": {
        const f = files.get(arg);
        await peer.reply(f ? `213 ${f.length}` : "550 no such file");
        break;
      }
      case "MDTM":
        await peer.reply(files.has(arg) ? "213 20260101000000" : "550 no such file");
        break;
      case "RNFR":
        peer.renameFrom = arg;
        await peer.reply(files.has(arg) ? "350 ready for RNTO" : "550 no such file");
        break;
      case "RNTO": {
        const from = peer.renameFrom;
        peer.renameFrom = undefined;
        const f = from === undefined ? undefined : files.get(from);
        if (from === undefined || !f) {
          await peer.reply("503 RNFR first");
          break;
        }
        files.delete(from);
        files.set(arg, f);
        await peer.reply("250 renamed");
        break;
      }
      case "DELE":
        await peer.reply(files.delete(arg) ? "250 deleted" : "550 no such file");
        break;
      case "MKD":
        if (dirs.has(arg)) await peer.reply("550 exists");
        else {
          dirs.add(arg);
          await peer.reply(`257 "${arg}" created`);
        }
        break;
      case "CWD":
        await peer.reply(dirs.has(arg) ? "250 ok" : "550 no such folder");
        break;
      case "QUIT":
        await peer.reply("221 bye");
        return;
      default:
        await peer.reply("502 not implemented");
    }
  }
}

/** STOR (at the REST offset) or APPE: 150, the data to its end, 226. */
async function store(
  peer: Peer,
  verb: "STOR" | "APPE",
  path: string,
  options: FakeFtpOptions,
): Promise<void> {
  const offset = verb === "APPE" ? (peer.server.files.get(path)?.length ?? 0) : peer.rest;
  peer.rest = 0;
  if (!peer.hasPassive) {
    await peer.reply("425 use EPSV or PASV first");
    return;
  }
  await peer.reply("150 ok to send data");
  const data = await peer.receive();
  const old = peer.server.files.get(path) ?? new Uint8Array();
  peer.server.files.set(path, concat([old.subarray(0, offset), data]));
  if (options.busyDuringTransfer) {
    await new Promise((r) => setTimeout(r, options.settleMs ?? 200));
    for (const line of peer.takeBuffered()) {
      peer.duringTransfer.push(line);
      await peer.reply("500 Unknown command");
    }
  }
  await peer.reply("226 transfer complete");
}
