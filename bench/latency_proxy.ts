/**
 * FTP-aware latency proxy for the benchmark: sits between an FTP client and
 * a server on loopback and makes every byte take `oneWayMs` to cross, in
 * both directions, on the control connection and on every data connection
 * (round trip time RTT = 2 × `oneWayMs`), optionally with a bandwidth cap
 * per connection and direction.
 *
 * How it works:
 * - A delay line per direction: the proxy reads whatever arrives, stamps it
 *   and releases it `oneWayMs` later, while it keeps reading. Bytes keep
 *   flowing (a true pipe delay, not a sleep per chunk), so throughput is not
 *   cut by the delay, only bounded by `windowBytes` in flight per direction
 *   (like a TCP window: at most `windowBytes / oneWayMs`). With `mbitPerS`,
 *   a chunk first waits for the link to be free and takes its size ÷ rate to
 *   pass (serialization), then `oneWayMs` to arrive (the queue in front of
 *   the cap holds up to `windowBytes`: a deep buffer). A FIN (end of data) is
 *   delayed the same way, behind the data before it.
 * - Timers fire late on a busy machine: `stats.lateMsSum / stats.released`
 *   is the mean lateness of a release, so the RTT clients saw was about
 *   RTT + 2 × that. The proxy runs in the bench's process (and event loop:
 *   the in-process `raw` tool delays it too).
 * - TCP's handshake (`handshake`, default on): a connection reaches the
 *   server 1.5 RTT after the client opened it (SYN, SYN-ACK, ACK: on a real
 *   link the server's accept() returns then, and the client's first bytes
 *   cannot arrive sooner either). The client's own connect() returns at once
 *   (the kernel accepts on loopback); what it sends meanwhile is held.
 *   Without it, opening a connection would cost nothing, which no real link
 *   gives.
 * - Passive replies are rewritten so data goes through the proxy too:
 *   `229 ... (|||p|)` and `227 ... (h1,h2,h3,h4,p1,p2)` get the port of a
 *   fresh proxy listener on 127.0.0.1 (227: host 127,0,0,1), which accepts
 *   one data connection and relays it, delayed alike, to the server's
 *   passive port on the target host. Parsing as in
 *   `tests/helpers/fault_proxy.ts`: only whole reply lines are looked at.
 *   Active mode (PORT/EPRT) and TLS are not supported.
 * - Only loopback targets: the proxy refuses any other, and data always goes
 *   to the target host, never to a host named in a reply.
 * - Blind mode (`target.dataPorts`), for FTPS, whose control connection
 *   cannot be read: the server listens on another loopback address (the
 *   bench's vsftpd on 127.0.0.3), and the proxy listens on 127.0.0.1 on the
 *   server's control port and on every port of its passive range, each
 *   relayed, delayed alike, to the same port on the server's address. The
 *   client connects to 127.0.0.1 and uses EPSV (or ignores the PASV host):
 *   nothing inside any connection is looked at; TLS runs end to end.
 *   Round trips are counted per connection there (a data connection cannot
 *   be tied to its control connection): a client's wait for the `150` before
 *   it starts TLS on the data connection is not seen, so the count is a
 *   floor; `wallRttsPerFile` (bench/latency.ts) tells the rest.
 *
 * Round trips, counted from the byte flow (never derived from wall time):
 * - Each connection's open counts one round trip (the handshake; on the
 *   control connection, waiting for the greeting).
 * - A *session* is a control connection with the data connections opened
 *   through its passive replies. A *turn* starts when the client sends bytes
 *   on any connection of the session and server bytes reached the client (were
 *   released to it) on any of them since the client last sent bytes: it sent
 *   something after hearing back, i.e. it (may have) waited. Commands sent
 *   back to back with no reply in between (pipelined) are one turn. Data sent
 *   after the `150` on the control connection is a turn too (the client waited
 *   for it): counting per connection alone would miss that wait.
 * - `roundTrips` = opens + turns of all connections. The bench divides it by
 *   the files of the set: round trips per file (logins, folders and listings
 *   included, spread over the files). A session that never waits for
 *   anything else takes about its round trips × RTT; with N sessions working
 *   in parallel, wall ≈ roundTrips × RTT / N when the work is spread evenly.
 *   E.g. ftpbatch's upload of one file: `EPSV` / connect (open) / `STOR` /
 *   data after the `150`, `SIZE` right behind it / `RNFR`+`RNTO` pipelined = 5.
 *   Checked against curl (one session, 2 files, 100 ms RTT): 14 counted, wall
 *   13.4 RTT once curl's own start-up is taken off.
 * - Approximate by nature: a client that streams data before the `150`
 *   arrives gets one turn counted when the `150` lands mid-stream; a
 *   connection open is counted 1 where it costs 1.5 RTT before the server
 *   sees it (its `150` to a waiting `STOR` then arrives 2 RTT after the open).
 *
 * @module
 */

import { rewritePassive } from "../tests/helpers/passive_reply.ts";
import {
  acceptAll,
  closeQuietly,
  closeWriteQuietly,
  concat,
  LineSplitter,
  writeAll,
} from "../tests/helpers/stream_bytes.ts";
import { isLoopback } from "../src/server/loopback.ts";

export interface LatencyOptions {
  /** Delay of every byte, each way, in ms (RTT = 2 × oneWayMs). */
  oneWayMs: number;
  /** Bandwidth cap per connection and direction, in Mbit/s (10^6 bit/s); none when undefined. */
  mbitPerS?: number;
  /** Model TCP's handshake: a connection reaches the server 1.5 RTT after it was opened (true). */
  handshake?: boolean;
  /** Bytes queued per direction before the proxy stops reading (4 MiB): the window. */
  windowBytes?: number;
}

export interface LatencyStats {
  controlConnections: number;
  dataConnections: number;
  /** Client turns on control connections (the opens not included). */
  controlTurns: number;
  /** Client turns on data connections (the opens not included). */
  dataTurns: number;
  /** Command lines the clients sent on control connections. */
  commands: number;
  /** Passive replies rewritten to a proxy data listener. */
  passiveReplies: number;
  /** Bytes client → server and server → client, all connections. */
  bytesUp: number;
  bytesDown: number;
  /** Round trips of the busiest control connection, its data connections included. */
  maxSessionRoundTrips: number;
  /**
   * How late the proxy released chunks (timer and event-loop lateness on a busy machine):
   * chunks released, the sum and the worst of (release − due) in ms.
   */
  released: number;
  lateMsSum: number;
  lateMsMax: number;
}

/** Opens + turns of all connections: see the module doc. */
export function roundTrips(s: LatencyStats): number {
  return s.controlConnections + s.dataConnections + s.controlTurns + s.dataTurns;
}

export interface LatencyProxy {
  host: "127.0.0.1";
  port: number;
  options: Required<Omit<LatencyOptions, "mbitPerS">> & { mbitPerS?: number };
  stats: LatencyStats;
  /**
   * Stops accepting, lets the connections still open finish (bytes in flight delivered,
   * up to `graceMs`, default 2 s + 4 RTT), then closes everything.
   */
  close(graceMs?: number): Promise<void>;
}

const READ_SIZE = 64 * 1024;
/** Smaller reads when the rate is capped, so a chunk's serialization time stays fine-grained. */
const CAPPED_READ_SIZE = 8 * 1024;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, Math.max(0, ms)));

/** Rewrites bytes as they pass; `flush` gives what it held back when the stream ends. */
interface Transform {
  push(chunk: Uint8Array): Uint8Array;
  flush(): Uint8Array;
}

interface Item {
  /** `null`: end of data (FIN). */
  data: Uint8Array | null;
  due: number;
}

/**
 * One direction of one connection: reads from `src` as fast as it comes (up to the window),
 * writes each chunk to the destination when it is due.
 */
class DelayLine {
  #queue: Item[] = [];
  #queued = 0;
  #wakeWriter: (() => void) | null = null;
  #wakeReader: (() => void) | null = null;
  /** When the capped link is free again (ms, performance.now()). */
  #linkFree = 0;
  #stopped = false;

  constructor(
    readonly opts: { oneWayMs: number; mbitPerS?: number; windowBytes: number },
    readonly hooks: {
      onRead?: (chunk: Uint8Array) => void;
      onDeliver?: () => void;
      /** A chunk was released `lateMs` after it was due. */
      onRelease?: (lateMs: number) => void;
      transform?: Transform;
    } = {},
  ) {}

  /** Relays until the end of data was delivered or the line was stopped. */
  async run(src: Deno.Conn, dst: Promise<Deno.Conn | null>): Promise<void> {
    await Promise.all([this.#read(src), this.#write(dst)]);
  }

  stop(): void {
    this.#stopped = true;
    this.#wakeWriter?.();
    this.#wakeReader?.();
  }

  #due(bytes: number, now: number): number {
    const rate = this.opts.mbitPerS;
    if (!rate) return now + this.opts.oneWayMs;
    const start = Math.max(now, this.#linkFree);
    this.#linkFree = start + (bytes * 8) / (rate * 1000); // 1 Mbit/s = 1000 bit/ms
    return this.#linkFree + this.opts.oneWayMs;
  }

  #enqueue(data: Uint8Array | null, now: number): void {
    const due = this.#due(data?.length ?? 0, now);
    this.#queue.push({ data, due });
    this.#queued += data?.length ?? 0;
    this.#wakeWriter?.();
  }

  async #read(src: Deno.Conn): Promise<void> {
    const buf = new Uint8Array(this.opts.mbitPerS ? CAPPED_READ_SIZE : READ_SIZE);
    try {
      while (!this.#stopped) {
        while (this.#queued >= this.opts.windowBytes && !this.#stopped) {
          await new Promise<void>((r) => (this.#wakeReader = r));
          this.#wakeReader = null;
        }
        if (this.#stopped) break;
        const n = await src.read(buf);
        if (n === null) break;
        const now = performance.now();
        const chunk = buf.slice(0, n);
        this.hooks.onRead?.(chunk);
        this.#enqueue(this.hooks.transform ? this.hooks.transform.push(chunk) : chunk, now);
      }
    } catch {
      // reset or closed: the end of data, delayed like a FIN
    }
    const now = performance.now();
    const rest = this.hooks.transform?.flush();
    if (rest?.length) this.#enqueue(rest, now);
    this.#enqueue(null, now);
  }

  async #write(dstPromise: Promise<Deno.Conn | null>): Promise<void> {
    const dst = await dstPromise;
    if (!dst) return this.stop();
    try {
      while (!this.#stopped) {
        const item = this.#queue[0];
        if (!item) {
          await new Promise<void>((r) => (this.#wakeWriter = r));
          this.#wakeWriter = null;
          continue;
        }
        // setTimeout may fire a fraction of a ms early: never release a chunk before it is due.
        for (
          let wait = item.due - performance.now();
          wait > 0;
          wait = item.due - performance.now()
        ) {
          await sleep(Math.ceil(wait));
        }
        if (this.#stopped) return;
        this.hooks.onRelease?.(performance.now() - item.due);
        this.#queue.shift();
        this.#queued -= item.data?.length ?? 0;
        this.#wakeReader?.();
        if (item.data === null) {
          await closeWriteQuietly(dst as Deno.TcpConn); // the peer may be gone already
          return;
        }
        if (item.data.length > 0) {
          await writeAll(dst, item.data);
          this.hooks.onDeliver?.();
        }
      }
    } catch {
      this.stop(); // the destination is gone: nothing more can be delivered
      throw new Error("delivery failed");
    }
  }
}

/** Splits the server's control stream into lines and rewrites passive replies. */
class PassiveRewriter implements Transform {
  #lines = new LineSplitter();

  constructor(readonly rewrite: (line: string) => string | null) {}

  push(chunk: Uint8Array): Uint8Array {
    return concat(
      this.#lines.push(chunk).map((line) => {
        // Only final passive replies ("227 " / "229 ") are decoded; everything else passes as bytes.
        if (
          line[0] !== 0x32 || line[1] !== 0x32 || (line[2] !== 0x37 && line[2] !== 0x39) ||
          line[3] !== 0x20
        ) return line;
        const out = this.rewrite(decoder.decode(line).replace(/\r?\n$/, ""));
        return out === null ? line : encoder.encode(out + "\r\n");
      }),
    );
  }

  flush(): Uint8Array {
    return this.#lines.rest();
  }
}

/** What the connections of one proxy share. */
interface ProxyState {
  opts: { oneWayMs: number; handshake: boolean; windowBytes: number; mbitPerS?: number };
  stats: LatencyStats;
  targetHost: string;
  relays: Set<Relay>;
  dataListeners: Set<Deno.Listener>;
  /** Set by `close`: new connections are refused. */
  closing: boolean;
  /** Blind mode: no connection is read (no passive reply rewritten). */
  blind: boolean;
  /** Keeps `p` among the tasks `close` waits for. */
  track(p: Promise<void>): void;
  /** A chunk was released `lateMs` after it was due. */
  released(lateMs: number): void;
}

/** A control session: its round trips, its data connections' included. */
class Session {
  roundTrips = 1; // the open

  constructor(readonly proxy: ProxyState) {}
  /** Server bytes reached the client since it last sent any (on any of the session's connections). */
  heard = false;
  readonly listeners = new Set<Deno.Listener>();

  add(n: number): void {
    this.roundTrips += n;
    if (this.roundTrips > this.proxy.stats.maxSessionRoundTrips) {
      this.proxy.stats.maxSessionRoundTrips = this.roundTrips;
    }
  }

  /** A listener for one data connection, relayed to the server's passive `port`. */
  dataListener(port: number): number {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const { proxy } = this;
    this.listeners.add(l);
    proxy.dataListeners.add(l);
    proxy.track((async () => {
      let conn: Deno.TcpConn;
      try {
        conn = await l.accept();
      } catch {
        return; // closed before anyone connected
      } finally {
        this.listeners.delete(l);
        proxy.dataListeners.delete(l);
        closeQuietly(l);
      }
      if (proxy.closing) return closeQuietly(conn);
      proxy.stats.dataConnections++;
      this.add(1);
      await new Relay(conn, port, this, "data").run();
    })());
    return (l.addr as Deno.NetAddr).port;
  }

  rewrite(line: string): string | null {
    const out = rewritePassive(line, (port) => this.dataListener(port));
    if (out === undefined) return null;
    this.proxy.stats.passiveReplies++;
    return out;
  }

  end(): void {
    for (const l of this.listeners) {
      this.proxy.dataListeners.delete(l);
      closeQuietly(l);
    }
    this.listeners.clear();
  }
}

/** One connection, client <-> server, delayed both ways; counts the client's turns. */
class Relay {
  upstream?: Deno.TcpConn;
  readonly up: DelayLine;
  readonly down: DelayLine;

  constructor(
    readonly client: Deno.TcpConn,
    readonly serverPort: number,
    readonly session: Session,
    readonly kind: "control" | "data",
  ) {
    const { proxy } = session;
    const { stats, opts } = proxy;
    const onRelease = (lateMs: number) => proxy.released(lateMs);
    proxy.relays.add(this);
    // A router does not hold small segments back: without this, Nagle's algorithm on the
    // proxy's own sockets meets the peer's delayed ACK and adds up to 40 ms to a reply.
    client.setNoDelay(true);
    this.up = new DelayLine(opts, {
      onRelease,
      onRead: (chunk) => {
        stats.bytesUp += chunk.length;
        if (kind === "control") { for (const b of chunk) if (b === 0x0a) stats.commands++; }
        if (session.heard) {
          session.heard = false;
          if (kind === "control") stats.controlTurns++;
          else stats.dataTurns++;
          session.add(1);
        }
      },
    });
    this.down = new DelayLine(opts, {
      onRead: (chunk) => (stats.bytesDown += chunk.length),
      onDeliver: () => (session.heard = true),
      onRelease,
      ...(kind === "control" && !proxy.blind
        ? { transform: new PassiveRewriter((l) => session.rewrite(l)) }
        : {}),
    });
  }

  async #connect(): Promise<Deno.TcpConn | null> {
    const { opts, targetHost } = this.session.proxy;
    if (opts.handshake) await sleep(3 * opts.oneWayMs);
    if (this.session.proxy.closing) return null;
    try {
      this.upstream = await Deno.connect({ hostname: targetHost, port: this.serverPort });
      this.upstream.setNoDelay(true);
      return this.upstream;
    } catch {
      return null;
    }
  }

  async run(): Promise<void> {
    const upstream = this.#connect();
    // No server: the client's side is closed, which ends the relay.
    upstream.then((u) => u ?? this.kill());
    try {
      const down = upstream.then((
        u,
      ) => (u ? this.down.run(u, Promise.resolve(this.client)) : undefined));
      await Promise.all([this.up.run(this.client, upstream), down]);
    } catch {
      // one side is gone: end both
    } finally {
      this.kill();
      if (this.kind === "control") this.session.end();
    }
  }

  kill(): void {
    this.up.stop();
    this.down.stop();
    closeQuietly(this.client);
    closeQuietly(this.upstream);
    this.session.proxy.relays.delete(this);
  }
}

/**
 * Starts the proxy on 127.0.0.1 in front of `target`, which must be loopback: on a free port,
 * or, with `dataPorts` (blind mode, see the module doc), on the target's own control port and
 * passive range (the target then listens on another loopback address than 127.0.0.1).
 */
export function startLatencyProxy(
  target: { host: string; port: number; dataPorts?: [number, number] },
  options: LatencyOptions,
): LatencyProxy {
  const targetHost = target.host === "localhost" ? "127.0.0.1" : target.host;
  if (!isLoopback(targetHost)) {
    throw new Error(`the latency proxy only forwards to loopback, not ${target.host}`);
  }
  const blind = target.dataPorts !== undefined;
  if (blind && targetHost === "127.0.0.1") {
    throw new Error("blind mode needs the server on another loopback address than 127.0.0.1");
  }
  if (!(options.oneWayMs >= 0)) throw new Error(`oneWayMs must be ≥ 0, not ${options.oneWayMs}`);
  if (options.mbitPerS !== undefined && !(options.mbitPerS > 0)) {
    throw new Error(`mbitPerS must be > 0, not ${options.mbitPerS}`);
  }
  const opts = {
    oneWayMs: options.oneWayMs,
    handshake: options.handshake ?? true,
    windowBytes: options.windowBytes ?? 4 * 2 ** 20,
    ...(options.mbitPerS ? { mbitPerS: options.mbitPerS } : {}),
  };
  const stats: LatencyStats = {
    controlConnections: 0,
    dataConnections: 0,
    controlTurns: 0,
    dataTurns: 0,
    commands: 0,
    passiveReplies: 0,
    bytesUp: 0,
    bytesDown: 0,
    maxSessionRoundTrips: 0,
    released: 0,
    lateMsSum: 0,
    lateMsMax: 0,
  };
  const listener = Deno.listen({ hostname: "127.0.0.1", port: blind ? target.port : 0 });
  const tasks = new Set<Promise<void>>();
  const proxy: ProxyState = {
    opts,
    stats,
    targetHost,
    relays: new Set(),
    dataListeners: new Set(),
    closing: false,
    blind,
    track(p) {
      const q = p.catch(() => {}).finally(() => tasks.delete(q));
      tasks.add(q);
    },
    released(lateMs) {
      stats.released++;
      stats.lateMsSum += lateMs;
      if (lateMs > stats.lateMsMax) stats.lateMsMax = lateMs;
    },
  };
  const { relays, dataListeners } = proxy;

  const accepting = acceptAll(listener, () => proxy.closing, (conn) => {
    stats.controlConnections++;
    proxy.track(new Relay(conn, target.port, new Session(proxy), "control").run());
  });
  const blindData = blind ? relayRange(proxy, target.dataPorts!) : [];

  return {
    host: "127.0.0.1",
    port: (listener.addr as Deno.NetAddr).port,
    options: opts,
    stats,
    async close(graceMs = 2000 + 8 * opts.oneWayMs) {
      closeQuietly(listener);
      for (const l of blindData) closeQuietly(l);
      await accepting;
      const deadline = performance.now() + graceMs;
      while (relays.size > 0 && performance.now() < deadline) {
        await Promise.race([Promise.all([...tasks]), sleep(20)]);
      }
      proxy.closing = true;
      for (const l of dataListeners) closeQuietly(l);
      dataListeners.clear();
      while (tasks.size > 0) {
        for (const r of [...relays]) r.kill();
        await Promise.race([Promise.all([...tasks]), sleep(20)]);
      }
    },
  };
}

/** Blind mode: a listener on 127.0.0.1 on each port of `[min, max]`, relayed to that port. */
function relayRange(proxy: ProxyState, [min, max]: [number, number]): Deno.TcpListener[] {
  const listeners: Deno.TcpListener[] = [];
  for (let port = min; port <= max; port++) {
    const l = Deno.listen({ hostname: "127.0.0.1", port });
    listeners.push(l);
    proxy.track(acceptAll(l, () => proxy.closing, (conn) => {
      proxy.stats.dataConnections++;
      // Its own session: which control connection it belongs to cannot be told.
      proxy.track(new Relay(conn, port, new Session(proxy), "data").run());
    }));
  }
  return listeners;
}
