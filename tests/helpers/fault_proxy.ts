/**
 * FTP-aware TCP fault proxy for tests: sits between the client and a real FTP
 * server (vsftpd) on loopback and injects the faults the server cannot
 * produce itself, at exact points of the protocol.
 *
 * How it works:
 * - Control connections are relayed line by line (CRLF). Commands are
 *   recorded in `stats.commands` (`PASS ***` masked). Replies are reassembled
 *   (several TCP reads, multi-line replies such as `211-` ... `211 End`) and
 *   matched to the command they answer (one final reply per command, 1xx
 *   replies are preliminary), so the proxy knows what each reply means.
 * - Passive replies are rewritten so data goes through the proxy:
 *   `229 ... (|||p|)` and `227 ... (h1,h2,h3,h4,p1,p2)` get the port of a
 *   fresh proxy listener on 127.0.0.1 (227: host 127,0,0,1). That listener
 *   accepts one data connection and pipes it to the server's passive port
 *   (always on the target host: nothing but loopback is ever contacted).
 * - The data pipe knows the transfer it carries (STOR/APPE, its path and the
 *   file offset it starts at), so a cut happens at an exact byte of the file.
 *
 * Fault semantics (read at every event: `proxy.faults` may be changed while
 * the proxy runs; `times` counts per fault object):
 * - `cutDataAt`: see {@linkcode ProxyFaults.cutDataAt}. The server gets
 *   exactly the bytes before `byte` and then a clean end of data (FIN), so its
 *   file holds exactly `byte` bytes: deterministic, unlike a reset, which
 *   would drop whatever is still in the server's socket buffer. The client's
 *   side is closed with its unread data, which the kernel turns into a reset
 *   (EPIPE/ECONNRESET on the client's next write); when nothing more was in
 *   flight it is a plain FIN. The server believes the short upload complete
 *   and answers 226; the proxy turns that reply into `426` in case the client
 *   still listens (a slow client may read it before it notices the reset).
 * - Settling: after a cut, or when a session is closed while a data
 *   connection is open, new control connections are held back (up to 10 s)
 *   until the server has closed those data connections, i.e. finished writing
 *   what it received. Without that, a client that reconnects fast could ask
 *   `SIZE` while the old server process is still writing, and the offset it
 *   resumes from would depend on timing.
 * - The proxy's own replies (502 for a refused REST/APPE) are queued behind
 *   the replies still expected from the server, so pipelined commands stay in order.
 *
 * Not supported: TLS (AUTH TLS), active mode (PORT/EPRT pass through
 * unchanged, so the server would connect to the client directly). Deno's
 * sockets cannot send a reset on demand, so a reset from the client reaches
 * the server as a clean end of data.
 *
 * @module
 */

import { isLoopback } from "../../src/server/loopback.ts";
import { rewritePassive } from "./passive_reply.ts";
import { closedPort } from "./kit.ts";
import {
  acceptAll,
  closeQuietly,
  closeWriteQuietly,
  concat,
  LineSplitter,
  writeAll,
} from "./stream_bytes.ts";

export interface ProxyFaults {
  /**
   * Cut the data connection of a STOR/APPE upload once the file reaches
   * `byte` bytes (a file offset). The offset a transfer starts at: for STOR
   * the `REST n` accepted (350) just before it, else 0; for APPE the last
   * `213` reply the server gave in the same session to `SIZE <same path>`
   * (what the client asked before appending), else 0. A transfer that starts
   * beyond `byte` is not cut. `times` (default 1) uploads get cut; `path`
   * (substring of the STOR/APPE argument) limits it to matching uploads.
   */
  cutDataAt?: { byte: number; times?: number; path?: string };
  /**
   * Close the session (client control connection, the server side of it and
   * its data connections) on every `after`-th STOR/APPE command the proxy
   * sees (counted over all sessions while this fault object is set), at most
   * `times` (default 1) times. Without `afterBytes` the command is not
   * forwarded (the close happens when it arrives). With `afterBytes` the
   * command is forwarded and the close happens during the transfer, once that
   * many bytes of it have passed (or when the client ends the data sooner,
   * before the server's reply).
   */
  closeControlOnStore?: { after: number; times?: number; afterBytes?: number };
  /**
   * Close the session between files: right after forwarding every `after`-th
   * `226` reply that ends a STOR/APPE (`at: "226"`, default; the client has
   * sent everything but not verified or renamed yet), or every `after`-th
   * successful (2xx) RNTO reply (`at: "RNTO"`; the file is done, the next one
   * not started). Counted over all sessions, at most `times` (default 1).
   */
  closeControlBetweenFiles?: { after: number; times?: number; at?: "226" | "RNTO" };
  /**
   * Answer every `after`-th `verb` command (e.g. `RNTO`) with `reply` without forwarding
   * it, at most `times` (default 1) times: a refusal from the server, at a chosen point
   * of a pipeline.
   */
  answerInstead?: {
    verb: string;
    reply: string;
    after: number;
    times?: number;
    /** Close the session right after the reply (vsftpd's `500 OOPS: ...` then exit). */
    thenClose?: boolean;
  };
  /**
   * Close the session when every `after`-th `verb` command arrives (not forwarded), at
   * most `times` (default 1) times: a connection lost between pipelined commands (the
   * ones before it forwarded and answered, the ones after it never sent on).
   */
  closeOn?: { verb: string; after: number; times?: number };
  /**
   * Greet the control connections numbered `sessions` (1-based, in order of arrival) with
   * `reply` and close them, never contacting the server: a refused (re)connect, such as a
   * shared host's `421 Too many connections` while it still counts a dead session.
   */
  greetInstead?: { reply: string; sessions: number[] };
  /** Faults at random points, from a seed (the soak test): see {@linkcode ChaosFaults}. */
  chaos?: ChaosFaults;
  /** Answer REST with `502 Command not implemented.` without forwarding; drop `REST STREAM` from FEAT. */
  refuseRest?: boolean;
  /** Answer APPE with `502 Command not implemented.` without forwarding (not counted as a store). */
  refuseAppe?: boolean;
  /**
   * A middlebox that breaks EPSV: every `229` names a loopback port on which nothing
   * listens (PASV replies still lead to the server).
   */
  deadEpsv?: boolean;
}

/**
 * Random faults, each a chance per event, drawn from a generator seeded with
 * `seed` (the same seed draws the same sequence; which session meets which
 * draw still depends on timing). At most `max` faults in all, so a run can end.
 */
export interface ChaosFaults {
  seed: number;
  /** Per new control connection: greeted `421 Too many connections` and closed. */
  greet421: number;
  /** Per command forwarded: the session closed right after it (data connections too). */
  cutAfterCommand: number;
  /** Per command forwarded: the control connection falls silent both ways (until the client leaves). */
  stallControl: number;
  /** Per upload data connection: cut after a random number of bytes (the server keeps those). */
  cutData: number;
  /** Per upload data connection: falls silent after a random number of bytes. */
  stallData: number;
  /** Most faults in all (default 12). */
  max?: number;
  /** Random cut and stall points are below this many bytes of a transfer (default 1 MiB). */
  maxBytes?: number;
}

/** The faults `chaos` injected, by kind. */
export interface ChaosFired {
  greet421: number;
  cutAfterCommand: number;
  stallControl: number;
  cutData: number;
  stallData: number;
}

export interface ProxyExchange {
  /** 1-based session number (order of accepted control connections). */
  session: number;
  /** The command (`PASS ***` masked); `""` for the greeting. */
  command: string;
  /** First line of the final reply the client got (after any rewriting). */
  reply: string;
}

export interface ProxyStats {
  /** Every command line the clients sent, in order (`PASS ***` masked); capped to the last 10000. */
  commands: string[];
  /** Control connections accepted. */
  sessions: number;
  /** Command and final reply pairs, in order of the replies; capped to the last 10000. */
  exchanges: ProxyExchange[];
  /** How often each fault fired. */
  fired: { cutData: number; closeOnStore: number; closeBetweenFiles: number };
  /** What the `chaos` faults injected. */
  chaos: ChaosFired;
  /** The cuts made: the path, the file offset the transfer started at, and the byte it was cut at. */
  cuts: { session: number; command: string; offset: number; at: number }[];
  /**
   * The sessions closed by a fault: the command it hit (the STOR/APPE, or for
   * `closeControlBetweenFiles` the command whose reply came last) and, for a
   * close during a transfer, the file offset the transfer started at and how many
   * bytes of it had reached the server (so the server's file then holds
   * `offset + passed` bytes).
   */
  closes: {
    session: number;
    fault: "onStore" | "betweenFiles";
    command: string;
    offset?: number;
    passed?: number;
  }[];
}

export interface FaultProxy {
  host: "127.0.0.1";
  port: number;
  /** Read at every event: may be changed while the proxy runs. */
  faults: ProxyFaults;
  stats: ProxyStats;
  /**
   * Closes every listener and connection and waits for all relays to end. Waits first (up
   * to 10 s) for the server to finish the data connections of cut or killed transfers, so
   * what reached it is on its disk when this returns.
   */
  close(): Promise<void>;
}

const MAX_LOG = 10000;
const BUF_SIZE = 64 * 1024;
const SETTLE_TIMEOUT_MS = 10_000;
const CR_LF = "\r\n";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function push<T>(list: T[], item: T): void {
  list.push(item);
  if (list.length > MAX_LOG) list.shift();
}

function text(line: Uint8Array): string {
  return decoder.decode(line).replace(/\r?\n$/, "");
}

interface Transfer {
  verb: "STOR" | "APPE";
  path: string;
  /** File offset the transfer starts at. */
  offset: number;
  /** Bytes of the transfer forwarded to the server so far. */
  passed: number;
  /** Close the session once this many bytes of the transfer have passed. */
  closeAtBytes?: number;
  /** The proxy cut this transfer: its server reply becomes 426. */
  cut: boolean;
}

interface Pending {
  verb: string;
  arg: string;
  /** The masked command line, for the log. */
  logged: string;
  /** A reply made by the proxy: sent when it reaches the head of the queue. */
  local?: string;
  /** Close the session once the local reply is written. */
  closeAfter?: boolean;
}

interface Reply {
  code: string;
  lines: Uint8Array[];
}

const UPSTREAM_CLOSED = Symbol("upstream closed");

/** Starts the proxy on 127.0.0.1 (a free port) in front of `target`, which must be loopback. */
export function startFaultProxy(
  target: { host: string; port: number },
  faults: ProxyFaults = {},
): Promise<FaultProxy> {
  const targetHost = target.host === "localhost" ? "127.0.0.1" : target.host;
  if (!isLoopback(targetHost)) {
    return Promise.reject(
      new Error(`the fault proxy only forwards to loopback, not ${target.host}`),
    );
  }
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stats: ProxyStats = {
    commands: [],
    sessions: 0,
    exchanges: [],
    fired: { cutData: 0, closeOnStore: 0, closeBetweenFiles: 0 },
    chaos: { greet421: 0, cutAfterCommand: 0, stallControl: 0, cutData: 0, stallData: 0 },
    cuts: [],
    closes: [],
  };
  const used = new WeakMap<object, number>(); // fault object -> times fired
  const counted = new WeakMap<object, number>(); // fault object -> events counted
  const tasks = new Set<Promise<unknown>>();
  const sessions = new Set<Session>();
  const pipes = new Set<DataPipe>();
  const settling = new Set<Promise<void>>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  let closing = false;

  const track = <T>(p: Promise<T>): Promise<T> => {
    const q = p.catch(() => {}).finally(() => tasks.delete(q));
    tasks.add(q);
    return p;
  };

  /** Consume one use of a fault; false once `times` (default 1) is spent. */
  const take = (fault: { times?: number }): boolean => {
    const n = used.get(fault) ?? 0;
    if (n >= (fault.times ?? 1)) return false;
    used.set(fault, n + 1);
    return true;
  };

  /** Count one event for a `{after, times}` fault; true when it fires now. */
  const every = (fault: { after: number; times?: number }): boolean => {
    const n = (counted.get(fault) ?? 0) + 1;
    counted.set(fault, n);
    return n % Math.max(1, fault.after) === 0 && take(fault);
  };

  let random: (() => number) | undefined;
  let randomSeed: number | undefined;
  /** Draws for a chaos fault of `kind`: true when it fires now (counted, within `max`). */
  const roll = (kind: keyof ChaosFired): boolean => {
    const c = faults.chaos;
    if (!c || c[kind] <= 0) return false;
    if (!random || randomSeed !== c.seed) [random, randomSeed] = [seeded(c.seed), c.seed];
    const total = Object.values(stats.chaos).reduce((a, b) => a + b, 0);
    if (random() >= c[kind] || total >= (c.max ?? 12)) return false;
    stats.chaos[kind]++;
    return true;
  };
  /** A random byte count below the chaos limit. */
  const randomBytes = () => Math.floor(random!() * (faults.chaos?.maxBytes ?? 1 << 20));

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  /** Waits (up to 10 s) until servers finished the data connections of cut or killed transfers. */
  async function settled(): Promise<void> {
    const deadline = Date.now() + SETTLE_TIMEOUT_MS;
    while (settling.size > 0 && !closing && Date.now() < deadline) {
      await Promise.race([Promise.all([...settling]), sleep(50)]);
    }
  }

  /** One data connection: client <-> the server's passive port. */
  class DataPipe {
    upstream?: Deno.TcpConn;
    transfer?: Transfer;
    /** The chaos fault this transfer meets (null: none; undefined: not drawn yet). */
    #chaos?: { kind: "cut" | "stall"; at: number } | null;
    #aborted = false;
    #writing = false;
    #upstreamShut = false;
    #serverDone!: () => void;
    /** Resolves when the server closed (or reset) its side. */
    readonly serverDone = new Promise<void>((r) => (this.#serverDone = r));

    constructor(readonly session: Session, readonly client: Deno.TcpConn) {
      pipes.add(this);
      session.pipes.add(this);
    }

    async run(port: number): Promise<void> {
      try {
        try {
          this.upstream = await Deno.connect({ hostname: targetHost, port });
        } catch {
          return;
        }
        if (this.#aborted || closing) return;
        await Promise.all([this.#clientToServer(), this.#serverToClient()]);
      } finally {
        closeQuietly(this.client);
        closeQuietly(this.upstream);
        this.#serverDone();
        this.session.pipes.delete(this);
        pipes.delete(this);
      }
    }

    async #clientToServer(): Promise<void> {
      const up = this.upstream!;
      const buf = new Uint8Array(BUF_SIZE);
      try {
        // A server reads a data connection only once it has the STOR/APPE: what a client sends
        // sooner (before the 150) waits in the kernel until then. Held here alike, so a
        // transfer's bytes are counted (and cut) from its first one.
        while (!this.#aborted && !this.session.transfer && !this.session.ended) await sleep(2);
        while (!this.#aborted) {
          const n = await this.client.read(buf);
          if (n === null) break;
          let chunk = buf.subarray(0, n);
          const t = (this.transfer ??= this.session.transfer);
          if (t && this.#chaos === undefined) {
            this.#chaos = roll("cutData")
              ? { kind: "cut", at: randomBytes() }
              : roll("stallData")
              ? { kind: "stall", at: randomBytes() }
              : null;
          }
          if (t && this.#chaos && t.passed + n > this.#chaos.at) {
            // Exactly the bytes before the point reach the server; then a cut or silence.
            const keep = Math.max(0, this.#chaos.at - t.passed);
            this.#writing = true;
            await writeAll(up, chunk.subarray(0, keep));
            this.#writing = false;
            t.passed += keep;
            if (this.#chaos.kind === "stall") {
              // Until it ends, new sessions wait for this transfer as for a cut one.
              this.settleWhenDone();
              // The client gives up on it by closing its control connection; a server that reads
              // no commands during a transfer (ftp-srv) would never end the session itself.
              while (
                !this.#aborted && !this.session.ended && !this.session.clientGone && !closing
              ) {
                await sleep(50);
              }
            }
            t.cut = true;
            this.abort();
            break;
          }
          if (t) {
            const pos = t.offset + t.passed;
            const cut = faults.cutDataAt;
            if (
              cut && t.offset <= cut.byte && pos <= cut.byte && pos + n > cut.byte &&
              (cut.path === undefined || t.path.includes(cut.path)) && take(cut)
            ) {
              // Client side first (reset: unread data), then exactly the prefix to the server.
              stats.fired.cutData++;
              push(stats.cuts, {
                session: this.session.id,
                command: `${t.verb} ${t.path}`,
                offset: t.offset,
                at: cut.byte,
              });
              t.cut = true;
              this.#aborted = true;
              closeQuietly(this.client);
              this.#writing = true;
              await writeAll(up, chunk.subarray(0, cut.byte - pos));
              this.#writing = false;
              t.passed += cut.byte - pos;
              this.#settle();
              break;
            }
            if (t.closeAtBytes !== undefined && t.passed + n >= t.closeAtBytes) {
              chunk = chunk.subarray(0, t.closeAtBytes - t.passed);
              this.#writing = true;
              await writeAll(up, chunk);
              this.#writing = false;
              t.passed += chunk.length;
              this.session.faultClose("onStore", `${t.verb} ${t.path}`, t);
              break;
            }
            t.passed += n;
          }
          this.#writing = true;
          await writeAll(up, chunk);
          this.#writing = false;
        }
        // The client ended the data: an armed mid-transfer close happens now.
        const t = this.transfer;
        if (!this.#aborted && t?.closeAtBytes !== undefined) {
          this.session.faultClose("onStore", `${t.verb} ${t.path}`, t);
        }
      } catch {
        // reset by either side, or closed by abort()
      } finally {
        this.#writing = false;
        if (this.#aborted) this.#settle();
        else await this.#shutUpstream();
      }
    }

    async #serverToClient(): Promise<void> {
      const buf = new Uint8Array(BUF_SIZE);
      try {
        while (true) {
          const n = await this.upstream!.read(buf);
          if (n === null) break;
          if (!this.#aborted) await writeAll(this.client, buf.subarray(0, n));
        }
        if (!this.#aborted) await closeWriteQuietly(this.client);
      } catch {
        // reset by either side
      } finally {
        this.#serverDone();
      }
    }

    async #shutUpstream(): Promise<void> {
      if (this.#upstreamShut || !this.upstream) return;
      this.#upstreamShut = true;
      await closeWriteQuietly(this.upstream);
    }

    /** Upstream: FIN (the server stores what it got), and new sessions wait for it to finish. */
    #settle(): void {
      if (!this.upstream) return;
      const done = this.serverDone;
      settling.add(done);
      done.then(() => settling.delete(done));
      if (!this.#writing) this.#shutUpstream();
    }

    /** New sessions wait until the server closed this data connection. */
    settleWhenDone(): void {
      const done = this.serverDone;
      settling.add(done);
      done.then(() => settling.delete(done));
    }

    /** Ends this data connection as a broken network would, letting the server finish. */
    abort(): void {
      if (this.#aborted) return;
      this.#aborted = true;
      closeQuietly(this.client);
      this.#settle();
    }

    /** Hard close (proxy shutdown). */
    destroy(): void {
      this.#aborted = true;
      closeQuietly(this.client);
      closeQuietly(this.upstream);
      this.#serverDone();
    }
  }

  /** One control connection and its upstream. */
  class Session {
    upstream?: Deno.TcpConn;
    readonly pending: Pending[] = [{ verb: "", arg: "", logged: "" }]; // the greeting
    readonly pipes = new Set<DataPipe>();
    readonly listeners = new Set<Deno.Listener>();
    readonly sizes = new Map<string, number>();
    transfer?: Transfer;
    rest?: number;
    /** Silent both ways (a chaos stall) until the client leaves. */
    stalled = false;
    /** The client closed its control connection (a stalled transfer then ends). */
    clientGone = false;
    #reply?: Reply;
    #killed = false;
    #clientWrites: Promise<void> = Promise.resolve();

    get ended(): boolean {
      return this.#killed;
    }

    constructor(readonly id: number, readonly client: Deno.TcpConn) {}

    async run(): Promise<void> {
      await settled();
      if (closing) return this.kill();
      const greet = faults.greetInstead?.sessions.includes(this.id)
        ? faults.greetInstead.reply
        : roll("greet421")
        ? "421 Too many connections (8) from this IP"
        : undefined;
      if (greet !== undefined) {
        push(stats.exchanges, { session: this.id, command: "", reply: greet });
        await this.#toClient(greet + CR_LF).catch(() => {});
        return this.kill();
      }
      try {
        this.upstream = await Deno.connect({ hostname: targetHost, port: target.port });
      } catch {
        return this.kill();
      }
      if (this.#killed) return this.kill();
      await Promise.all([this.#clientToServer(), this.#serverToClient()]);
      this.kill(false);
    }

    #toClient(data: Uint8Array | string): Promise<void> {
      const bytes = typeof data === "string" ? encoder.encode(data) : data;
      this.#clientWrites = this.#clientWrites.then(() => writeAll(this.client, bytes));
      return this.#clientWrites;
    }

    /** A fault ends the session (counted in `stats`). */
    faultClose(fault: "onStore" | "betweenFiles", command: string, during?: Transfer): void {
      if (fault === "onStore") stats.fired.closeOnStore++;
      else stats.fired.closeBetweenFiles++;
      push(stats.closes, {
        session: this.id,
        fault,
        command,
        ...(during ? { offset: during.offset, passed: during.passed } : {}),
      });
      this.kill();
    }

    /** Ends the session; `abrupt`: data connections broken too (a fault), else left to finish. */
    kill(abrupt = true): void {
      this.#killed = true;
      closeQuietly(this.client);
      closeQuietly(this.upstream);
      for (const l of this.listeners) closeQuietly(l);
      this.listeners.clear();
      if (abrupt) { for (const p of this.pipes) p.abort(); }
      // Chaos: a data connection the session leaves open may still be writing on the server;
      // new sessions wait for it, as after a cut (its bytes must be on disk before a SIZE).
      else if (faults.chaos) { for (const p of this.pipes) p.settleWhenDone(); }
      sessions.delete(this);
    }

    async #clientToServer(): Promise<void> {
      const lines = new LineSplitter();
      const buf = new Uint8Array(BUF_SIZE);
      try {
        while (!this.#killed) {
          const n = await this.client.read(buf);
          if (n === null) break;
          for (const line of lines.push(buf.subarray(0, n))) {
            if (this.#killed) return;
            await this.#command(line);
          }
        }
        this.clientGone = true;
        const rest = lines.rest();
        if (rest.length > 0) await writeAll(this.upstream!, rest);
        // Client closed: pass the FIN on, the server may still answer (and finish a transfer).
        await closeWriteQuietly(this.upstream!);
      } catch {
        this.kill();
      }
    }

    async #command(line: Uint8Array): Promise<void> {
      if (this.stalled) return;
      const cmd = text(line);
      const space = cmd.indexOf(" ");
      const verb = (space < 0 ? cmd : cmd.slice(0, space)).toUpperCase();
      const arg = space < 0 ? "" : cmd.slice(space + 1);
      const logged = verb === "PASS" ? "PASS ***" : cmd;
      push(stats.commands, logged);
      const entry: Pending = { verb, arg, logged };
      const instead = faults.answerInstead;
      if (instead?.verb === verb && every(instead)) {
        if (instead.thenClose) entry.closeAfter = true;
        return this.#local(entry, instead.reply);
      }
      const close = faults.closeOn;
      if (close?.verb === verb && every(close)) return this.faultClose("betweenFiles", cmd);
      switch (verb) {
        case "REST":
          if (faults.refuseRest) return this.#local(entry, "502 Command not implemented.");
          this.rest = Number.parseInt(arg, 10);
          break;
        case "APPE":
        case "STOR": {
          if (verb === "APPE" && faults.refuseAppe) {
            return this.#local(entry, "502 Command not implemented.");
          }
          const f = faults.closeControlOnStore;
          const fire = f !== undefined && every(f);
          if (fire && f.afterBytes === undefined) return this.faultClose("onStore", cmd);
          this.transfer = {
            verb,
            path: arg,
            offset: verb === "STOR" ? (this.rest ?? 0) : (this.sizes.get(arg) ?? 0),
            passed: 0,
            closeAtBytes: fire ? f.afterBytes : undefined,
            cut: false,
          };
          this.rest = undefined;
          break;
        }
        case "RETR":
        case "LIST":
        case "NLST":
        case "MLSD":
          this.rest = undefined;
          break;
      }
      this.pending.push(entry);
      await writeAll(this.upstream!, line);
      if (verb === "QUIT") return;
      if (roll("cutAfterCommand")) return this.kill();
      if (roll("stallControl")) this.stalled = true;
    }

    /** A reply by the proxy, in order behind the replies the server still owes. */
    #local(entry: Pending, reply: string): Promise<void> {
      entry.local = reply;
      this.pending.push(entry);
      return this.#flushLocal();
    }

    async #flushLocal(): Promise<void> {
      while (this.pending[0]?.local !== undefined) {
        const e = this.pending.shift()!;
        push(stats.exchanges, { session: this.id, command: e.logged, reply: e.local! });
        await this.#toClient(e.local + CR_LF);
        if (e.closeAfter) return this.faultClose("betweenFiles", e.logged);
      }
    }

    async #serverToClient(): Promise<void> {
      const lines = new LineSplitter();
      const buf = new Uint8Array(BUF_SIZE);
      try {
        while (true) {
          const n = await this.upstream!.read(buf);
          if (n === null) break;
          for (const line of lines.push(buf.subarray(0, n))) {
            if (this.stalled) continue;
            const reply = this.#collect(line);
            if (reply && (await this.#onReply(reply)) === UPSTREAM_CLOSED) return;
          }
        }
        const rest = lines.rest();
        if (rest.length > 0) await this.#toClient(rest);
        await this.#clientWrites;
        await closeWriteQuietly(this.client);
      } catch {
        this.kill();
      }
    }

    /** Adds a line to the reply being read; returns the reply once complete. */
    #collect(line: Uint8Array): Reply | undefined {
      const t = text(line);
      if (!this.#reply) {
        const m = t.match(/^(\d{3})([ -])/);
        if (!m) return { code: "", lines: [line] }; // not a reply: pass it on
        this.#reply = { code: m[1], lines: [line] };
        if (m[2] === " ") return this.#take();
        return undefined;
      }
      this.#reply.lines.push(line);
      return t.startsWith(`${this.#reply.code} `) ? this.#take() : undefined;
    }

    #take(): Reply {
      const r = this.#reply!;
      this.#reply = undefined;
      return r;
    }

    async #onReply(reply: Reply): Promise<typeof UPSTREAM_CLOSED | void> {
      const code = reply.code;
      if (code === "" || code.startsWith("1")) {
        // Preliminary (or not a reply): the command still waits for its final reply.
        await this.#toClient(concat(reply.lines));
        return;
      }
      const entry = this.pending.shift() ?? { verb: "", arg: "", logged: "(unsolicited)" };
      let lines = reply.lines;
      let killAfter = false;
      const first = () => text(lines[0]);
      switch (entry.verb) {
        case "EPSV":
          if (code === "229" && faults.deadEpsv) {
            const dead = rewritePassive(first(), () => closedPort()) ?? first();
            lines = [encoder.encode(dead + CR_LF)];
          } else if (code === "229") lines = [this.#passive(first())];
          break;
        case "PASV":
          if (code === "227") lines = [this.#passive(first())];
          break;
        case "FEAT":
          if (faults.refuseRest) {
            lines = lines.filter((l) => !/^\s*REST\s+STREAM\s*$/i.test(text(l)));
          }
          break;
        case "SIZE": {
          const m = first().match(/^213 (\d+)/);
          if (m) this.sizes.set(entry.arg, Number(m[1]));
          else this.sizes.delete(entry.arg);
          break;
        }
        case "REST":
          if (code !== "350") this.rest = undefined;
          break;
        case "STOR":
        case "APPE": {
          const t = this.transfer;
          this.transfer = undefined;
          if (t?.cut && code.startsWith("2")) {
            lines = [encoder.encode(`426 Connection closed; transfer aborted.${CR_LF}`)];
          } else if (code === "226") {
            const f = faults.closeControlBetweenFiles;
            if (f && (f.at ?? "226") === "226" && every(f)) killAfter = true;
          }
          break;
        }
        case "RNTO": {
          const f = faults.closeControlBetweenFiles;
          if (f && f.at === "RNTO" && code.startsWith("2") && every(f)) killAfter = true;
          break;
        }
      }
      push(stats.exchanges, { session: this.id, command: entry.logged, reply: first() });
      // One write: a local reply must not land between the lines of a multi-line reply.
      await this.#toClient(concat(lines));
      if (killAfter) {
        await this.#clientWrites.catch(() => {});
        this.faultClose("betweenFiles", entry.logged);
        return UPSTREAM_CLOSED;
      }
      await this.#flushLocal();
    }

    /** A passive reply pointed at a new proxy data listener. */
    #passive(line: string): Uint8Array {
      const rewritten = rewritePassive(line, (port) => this.#dataListener(port));
      return encoder.encode((rewritten ?? line) + CR_LF);
    }

    /** Listens for one data connection and pipes it to the server's `serverPort`. */
    #dataListener(serverPort: number): number {
      // A passive reply replaces the previous one: a listener nobody used is closed.
      for (const l of this.listeners) closeQuietly(l);
      this.listeners.clear();
      const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
      this.listeners.add(l);
      track((async () => {
        let conn: Deno.TcpConn;
        try {
          conn = await l.accept();
        } catch {
          return; // closed before anyone connected
        } finally {
          this.listeners.delete(l);
          closeQuietly(l);
        }
        if (this.#killed || closing) return closeQuietly(conn);
        await new DataPipe(this, conn).run(serverPort);
      })());
      return (l.addr as Deno.NetAddr).port;
    }
  }

  const accepting = track(acceptAll(listener, () => closing, (conn) => {
    const s = new Session(++stats.sessions, conn);
    sessions.add(s);
    track(s.run());
  }));

  return Promise.resolve({
    host: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
    get faults() {
      return faults;
    },
    set faults(f: ProxyFaults) {
      faults = f;
    },
    stats,
    async close() {
      closeQuietly(listener);
      await accepting;
      // What a cut or killed transfer passed to the server is on its disk before close() returns.
      await settled();
      closing = true;
      // Sessions may still be created by tasks in flight: repeat until all are gone.
      while (tasks.size > 0) {
        for (const s of [...sessions]) s.kill(false);
        for (const p of [...pipes]) p.destroy();
        await Promise.race([Promise.all([...tasks]), sleep(20)]);
      }
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  });
}

/** mulberry32: a small seeded generator, the same numbers for the same seed. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
