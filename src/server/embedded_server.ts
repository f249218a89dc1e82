/**
 * In-process FTP server (npm `ftp-srv` running inside Deno) for `serve`, the demo and tests,
 * with fault injection at exact bytes.
 *
 * What differs from plain ftp-srv, and why:
 * - STOR/APPE are handled here, not by ftp-srv: ftp-srv treats any data-socket `end` as success
 *   (226) and cannot cut at a byte. A cut (see {@link Faults.cutDataAt}) writes the file up to
 *   the byte, resets the data connection (RST), then answers `426` on the control connection.
 *   basic-ftp sees the RST first (EPIPE/ECONNRESET "(data socket)") and closes its client; a
 *   client that had already sent everything may read the 426 first (`FTPError`, client usable).
 *   A reset, not a FIN: basic-ftp takes a clean data close as a failed upload without waiting
 *   for the reply, so the late 426 would answer its next command.
 * - ftp-srv's data server `close` handler could replace the next EPSV's connector (-> 425).
 * - {@link ResumableFileSystem}: REST+STOR keeps the prefix (ftp-srv's default zero-fills it).
 * - FEAT also advertises `EPSV` and `REST STREAM` (unless REST is refused), like real servers.
 * - MFMT sets a file's modification time (`set_time.ts`; ftp-srv has no such command), so a
 *   re-run meets the real skip rule (same size and time). `Faults.refuseSetTime` turns it off.
 * - DELE removes files only and RMD folders only, as real servers do (ftp-srv: either).
 * - Path arguments are taken verbatim: ftp-srv's parser drops `"` and treats `-x` as a flag.
 * - Replies never show the server's local folder, only client paths ({@link clientPathsOnly}):
 *   ftp-srv answers e.g. `550 ENOENT: no such file or directory, stat '/srv/root/x'`.
 * - Passive ports come from the OS (port 0), so servers in one process never collide.
 * - Quiet: a no-op logger; ftp-srv's SIGINT/SIGTERM/SIGQUIT handlers are removed.
 * - {@link EmbeddedServerOptions.byteNames}: a server that does not speak UTF-8 (a legacy
 *   code page server): names are the bytes the client sent, whatever they mean.
 *
 * The commands are taken in `commands.ts` (own replies in `replies.ts`, STOR/APPE in
 * `store.ts`); here the server is set up, and closed with every connection it holds.
 *
 * @module
 */
import { FtpSrv } from "ftp-srv";
import { isLoopback } from "./loopback.ts";
import { ResumableFileSystem } from "./resumable_fs.ts";
import { clientPathsOnly } from "./client_paths.ts";
import type { Connection } from "./internals.ts";
import { intercept, type ServerState, type Session } from "./commands.ts";
import { type Faults, FaultUses, type ServerStats } from "./test_hooks.ts";
import { type AddressInfo, connect, type Server } from "node:net";
import { once } from "node:events";
import process from "node:process";

export type { Faults, ServerStats };

export interface EmbeddedServerOptions {
  root: string;
  /** Default 127.0.0.1; only loopback addresses are allowed. */
  host?: string;
  /** 0 (default) = a free port. */
  port?: number;
  /** When given, login must match user and password; otherwise any login (and "anonymous") works. */
  user?: string;
  password?: string;
  faults?: Faults;
  /**
   * Act like a server that keeps names in a legacy code page: command lines are
   * bytes, each taken as one latin1 character (ftp-srv's `latin1` encoding), and
   * replies go back the same way, so a name is exactly the bytes the client sent.
   * `OPTS UTF8` is refused and FEAT does not list `UTF8`. Deno cannot create a file
   * name that is not UTF-8, so on disk each byte is the character U+0000-U+00FF of
   * the same value (stored as UTF-8): {@link nameBytes} reads the bytes back.
   */
  byteNames?: boolean;
}

/** The bytes a client sent for a name on a `byteNames` server (see there). */
export function nameBytes(diskName: string): number[] {
  return Array.from(diskName, (c) => c.charCodeAt(0));
}

export interface EmbeddedServer {
  host: string;
  port: number;
  url: string;
  root: string;
  stats: ServerStats;
  /** Read at every command, so tests may change it while the server runs. */
  faults: Faults;
  close(): Promise<void>;
}

const SIGNALS = ["SIGTERM", "SIGINT", "SIGQUIT"] as const;

const silentLog = {
  child: () => silentLog,
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
  fatal() {},
};

export async function startEmbeddedServer(opts: EmbeddedServerOptions): Promise<EmbeddedServer> {
  const host = opts.host === undefined || opts.host === "localhost" ? "127.0.0.1" : opts.host;
  if (!isLoopback(host)) throw new Error(`embedded FTP server only binds loopback, not ${host}`);
  const hostInUrl = host.includes(":") ? `[${host}]` : host;
  const faults: Faults = opts.faults ?? {};
  const state: ServerState = {
    faults,
    uses: new FaultUses(),
    stats: { logins: 0, peakConnections: 0, peakTransfers: 0, commands: [] },
    transfers: { active: 0 },
    sessions: new Map(),
    byteNames: opts.byteNames === true,
  };
  const hideRoot = clientPathsOnly([opts.root, await Deno.realPath(opts.root)]);
  const srv = quietFtpSrv(`ftp://${hostInUrl}:${opts.port ?? 0}`, host, opts.user === undefined);
  srv.on("login", ({ connection, username, password }, resolve, reject) => {
    if (opts.user !== undefined && (username !== opts.user || password !== (opts.password ?? ""))) {
      return reject(new Error("Invalid username or password"));
    }
    const s = state.sessions.get(connection as unknown as Connection);
    if (s) s.loggedIn = true;
    state.stats.logins++;
    const loggedIn = [...state.sessions.values()].filter((o) => o.loggedIn).length;
    state.stats.peakConnections = Math.max(state.stats.peakConnections, loggedIn);
    resolve({ fs: new ResumableFileSystem(connection, { root: opts.root, cwd: "/" }) });
  });
  // deno-lint-ignore no-explicit-any
  (srv as any).on("connect", ({ connection }: { connection: Connection }) => {
    if (opts.byteNames) connection.encoding = "latin1";
    const reply = connection.reply.bind(connection);
    connection.reply = (code, ...letters) => reply(code, ...letters.map(hideRoot));
    track(state, connection);
  });

  await srv.listen();
  // deno-lint-ignore no-explicit-any
  const server: Server = (srv as any).server;
  const port = (server.address() as { port: number }).port;
  return {
    host,
    port,
    url: `ftp://${hostInUrl}:${port}`,
    root: opts.root,
    stats: state.stats,
    faults,
    async close() {
      await closeAll(server, [...state.sessions.values()], host);
      srv.removeAllListeners();
    },
  };
}

/** ftp-srv, quiet and fit to share a process with other servers (see the module comment). */
function quietFtpSrv(url: string, host: string, anonymous: boolean): FtpSrv {
  const listenersBefore = SIGNALS.map((s) => process.listeners(s));
  const srv = new FtpSrv({ url, pasv_url: host, anonymous, log: silentLog });
  // ftp-srv would quit the whole process on these signals.
  SIGNALS.forEach((s, i) => {
    for (const l of process.listeners(s)) {
      if (!listenersBefore[i].includes(l)) process.off(s, l as () => void);
    }
  });
  // deno-lint-ignore no-explicit-any
  const internals = srv as any;
  // OS-chosen passive ports: ftp-srv probes from 1024 upwards, which races between servers.
  internals.getNextPasvPort = () => Promise.resolve(0);
  // ftp-srv's version leaves a 1 s timer per connection (trips test sanitizers).
  internals.disconnectClient = (id: string) => {
    internals.connections[id]?.commandSocket?.destroy();
    delete internals.connections[id];
    return Promise.resolve();
  };
  return srv;
}

/** A new control connection: tracked while open, its commands taken one at a time. */
function track(state: ServerState, conn: Connection): void {
  const session: Session = {
    conn,
    ip: conn.commandSocket.remoteAddress ?? "",
    stores: 0,
    holdsSlot: false,
    loggedIn: false,
    connectors: new Set(),
  };
  state.sessions.set(conn, session);
  conn.commandSocket.once("close", () => state.sessions.delete(conn));
  const handle = conn.commands.handle.bind(conn.commands);
  // ftp-srv handles the commands of one TCP read in order, but those of the next read at the
  // same time: a REST and its STOR (or an RNFR and its RNTO) read apart could run out of
  // order (STOR from 0 after `350 Restarting`, `503 Bad sequence` for the RNTO). One at a
  // time, as a real server reads its control connection.
  let queue: Promise<unknown> = Promise.resolve();
  conn.commands.handle = (line) => {
    const run = queue.then(() => intercept(state, session, line as string, handle));
    queue = run.catch(() => {});
    return run;
  };
}

/** Closes the listener, every data server and connection still open, and waits for them. */
async function closeAll(server: Server, sessions: Session[], host: string): Promise<void> {
  const closed = new Promise<void>((r) => server.close(() => r()));
  const connectors = sessions.flatMap((s) => [...s.connectors]);
  const dataServers = connectors.flatMap((c) => c.dataServer?.listening ? [c.dataServer] : []);
  // ftp-srv clears a data server's 30 s idle timer only when a client connects: connect once.
  await Promise.all(
    connectors.filter((c) => !c.dataSocket && c.dataServer?.listening).map(
      async ({ dataServer }) => {
        const accepted = once(dataServer!, "connection");
        const probe = connect((dataServer!.address() as AddressInfo).port, host).on(
          "error",
          () => {},
        );
        await accepted;
        probe.destroy();
      },
    ),
  );
  const dataClosed = dataServers.map((d) => once(d, "close"));
  for (const c of connectors) c.dataSocket?.destroy();
  for (const d of dataServers) d.close();
  for (const s of sessions) s.conn.commandSocket.destroy();
  await Promise.all([closed, ...dataClosed]);
}
