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
 * - MFMT sets a file's modification time ({@link setTime}; ftp-srv has no such command), so a
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
 * @module
 */
import { FtpSrv } from "ftp-srv";
import { isLoopback } from "./loopback.ts";
import { ResumableFileSystem } from "./resumable_fs.ts";
import { clientPathsOnly } from "./client_paths.ts";
import { type Connection, type Connector, fsPathOf } from "./internals.ts";
import { setTime } from "./set_time.ts";
import { store, type StoreContext } from "./store.ts";
import { type Faults, FaultUses, type ServerStats } from "./test_hooks.ts";

export type { Faults, ServerStats };
import { type AddressInfo, connect, type Server } from "node:net";
import { once } from "node:events";
import process from "node:process";

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

interface Session {
  conn: Connection;
  ip: string;
  stores: number;
  holdsSlot: boolean;
  loggedIn: boolean;
  connectors: Set<Connector>;
}

const MAX_COMMANDS = 10000;
/** Commands whose argument is a path: passed verbatim (ftp-srv's parser would mangle it). */
const PATH_COMMANDS = new Set(
  "CWD XCWD MKD XMKD RMD XRMD DELE RNFR RNTO SIZE MDTM RETR".split(" "),
);
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
  const stats: ServerStats = { logins: 0, peakConnections: 0, peakTransfers: 0, commands: [] };
  const sessions = new Map<Connection, Session>();
  const uses = new FaultUses();
  const storeContext: StoreContext = { faults, uses, stats, transfers: { active: 0 } };

  const hideRoot = clientPathsOnly([opts.root, await Deno.realPath(opts.root)]);
  const listenersBefore = SIGNALS.map((s) => process.listeners(s));
  const srv = new FtpSrv({
    url: `ftp://${hostInUrl}:${opts.port ?? 0}`,
    pasv_url: host,
    anonymous: opts.user === undefined,
    log: silentLog,
  });
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

  srv.on("login", ({ connection, username, password }, resolve, reject) => {
    if (opts.user !== undefined && (username !== opts.user || password !== (opts.password ?? ""))) {
      return reject(new Error("Invalid username or password"));
    }
    const s = sessions.get(connection as unknown as Connection);
    if (s) s.loggedIn = true;
    stats.logins++;
    const loggedIn = [...sessions.values()].filter((o) => o.loggedIn).length;
    stats.peakConnections = Math.max(stats.peakConnections, loggedIn);
    resolve({ fs: new ResumableFileSystem(connection, { root: opts.root, cwd: "/" }) });
  });

  internals.on("connect", ({ connection: conn }: { connection: Connection }) => {
    const session: Session = {
      conn,
      ip: conn.commandSocket.remoteAddress ?? "",
      stores: 0,
      holdsSlot: false,
      loggedIn: false,
      connectors: new Set(),
    };
    sessions.set(conn, session);
    if (opts.byteNames) conn.encoding = "latin1";
    const reply = conn.reply.bind(conn);
    conn.reply = (code, ...letters) => reply(code, ...letters.map(hideRoot));
    conn.commandSocket.once("close", () => sessions.delete(conn));
    const handle = conn.commands.handle.bind(conn.commands);
    // ftp-srv handles the commands of one TCP read in order, but those of the next read at the
    // same time: a REST and its STOR (or an RNFR and its RNTO) read apart could run out of
    // order (STOR from 0 after `350 Restarting`, `503 Bad sequence` for the RNTO). One at a
    // time, as a real server reads its control connection.
    let queue: Promise<unknown> = Promise.resolve();
    conn.commands.handle = (line) => {
      const run = queue.then(() => intercept(session, line as string, handle));
      queue = run.catch(() => {});
      return run;
    };
  });

  async function intercept(s: Session, line: string, handle: Connection["commands"]["handle"]) {
    const { conn } = s;
    const word = line.split(" ", 1)[0];
    const directive = word.toUpperCase();
    const arg = line.length > word.length ? line.slice(word.length + 1) : null;
    stats.commands.push(directive === "PASS" ? "PASS ***" : line);
    if (stats.commands.length > MAX_COMMANDS) stats.commands.shift();

    switch (directive) {
      case "USER":
      case "PASS": {
        if (conn.authenticated) break;
        const max = faults.maxConnections;
        if (max !== undefined && !s.holdsSlot) {
          const taken = [...sessions.values()].filter((o) => o.holdsSlot && o.ip === s.ip).length;
          if (taken >= max) {
            await conn.reply(421, "Too many connections from your address");
            conn.commandSocket.destroy();
            return;
          }
        }
        // Held from USER on, so parallel logins cannot all pass the check.
        s.holdsSlot = true;
        await handle(line);
        if (directive === "PASS" && !conn.authenticated) s.holdsSlot = false;
        return;
      }
      case "REST":
        if (faults.refuseRest) return conn.reply(502, "Command not implemented");
        break;
      case "OPTS":
        if ((faults.rejectOptsUtf8 || opts.byteNames) && /^utf-?8\b/i.test(arg ?? "")) {
          return conn.reply(501, "OPTS UTF8 not supported");
        }
        break;
      case "FEAT":
        return featReply(conn, faults, opts.byteNames === true);
      case "DELE":
      case "RMD":
      case "XRMD": {
        if (!conn.fs) break;
        const refused = await refuseWrongKind(conn, directive, arg ?? "");
        if (refused) return refused;
        break;
      }
      case "SIZE":
        if (!conn.fs) break;
        return sizeReply(conn, arg ?? "");
      case "MFMT":
        if (faults.refuseSetTime || !conn.fs) return conn.reply(502, "Command not implemented");
        return setTime(conn, arg ?? "");
      case "XSHA256":
        if (!faults.offerHash || !conn.fs) return conn.reply(502, "Command not implemented");
        return sha256Reply(conn, arg ?? "");
      case "EPSV":
      case "PASV": {
        await handle(line);
        const c = conn.connector;
        const dataServer = c.dataServer;
        if (!dataServer) return;
        s.connectors.add(c); // close() closes what is still open
        // ftp-srv ends the connector when its data server closes, and `end()` installs a fresh
        // connector: a late close would wipe the one the next EPSV set up (-> 425).
        dataServer.removeAllListeners("close");
        dataServer.once("close", () => {
          s.connectors.delete(c);
          if (conn.connector === c) c.end();
        });
        return;
      }
      case "APPE":
      case "STOR": {
        if (!conn.authenticated || !conn.fs) return conn.reply(530, "Not logged in");
        if (directive === "APPE" && faults.refuseAppe) {
          return conn.reply(502, "Command not implemented");
        }
        s.stores++;
        const f = faults.closeControlOnStore;
        if (f && s.stores === f.after && uses.take(f)) {
          conn.commandSocket.destroy(); // ftp-srv then closes the data connection too
          return;
        }
        return store(conn, arg ?? "", directive === "APPE", storeContext);
      }
    }
    return handle(PATH_COMMANDS.has(directive) ? { directive, arg, flags: [], raw: line } : line);
  }

  await srv.listen();
  // deno-lint-ignore no-explicit-any
  const server: Server = (srv as any).server;
  const port = (server.address() as { port: number }).port;

  return {
    host,
    port,
    url: `ftp://${hostInUrl}:${port}`,
    root: opts.root,
    stats,
    faults,
    async close() {
      const closed = new Promise<void>((r) => server.close(() => r()));
      const connectors = [...sessions.values()].flatMap((s) => [...s.connectors]);
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
      for (const s of sessions.values()) s.conn.commandSocket.destroy();
      await Promise.all([closed, ...dataClosed]);
      srv.removeAllListeners();
    },
  };
}

/** The FEAT reply: what this server offers under `faults`. */
function featReply(conn: Connection, faults: Faults, byteNames: boolean) {
  const feats = ["EPSV", "MDTM", ...faults.refuseSetTime ? [] : ["MFMT"]];
  feats.push(...faults.refuseRest ? [] : ["REST STREAM"], "SIZE");
  if (!byteNames) feats.push("UTF8");
  if (faults.offerHash) feats.push("XSHA256");
  return conn.reply(
    211,
    "Extensions supported",
    ...feats.map((f) => ({ message: ` ${f}`, raw: true })),
    "End",
  );
}

/**
 * ftp-srv's DELE and RMD both remove whatever is there (RMD deletes a file, DELE an
 * empty folder); vsftpd and pure-ftpd refuse the wrong kind, and so does this server.
 * The refusal, or `undefined` to let ftp-srv go on.
 */
async function refuseWrongKind(conn: Connection, directive: string, arg: string) {
  const info = await Deno.stat(fsPathOf(conn, arg)).catch(() => undefined);
  if (info && directive === "DELE" && info.isDirectory) {
    return conn.reply(550, "Is a folder; use RMD");
  }
  if (info && directive !== "DELE" && !info.isDirectory) {
    return conn.reply(550, "Not a folder; use DELE");
  }
  return undefined;
}

/** SIZE: ftp-srv answers "213 File status" for an empty file (its size 0 is falsy there). */
async function sizeReply(conn: Connection, arg: string) {
  try {
    const info = await Deno.stat(fsPathOf(conn, arg));
    if (!info.isFile) return conn.reply(550, "Not a regular file");
    return conn.reply(213, String(info.size));
  } catch {
    return conn.reply(550, "No such file");
  }
}

/** XSHA256 (offered with `faults.offerHash`): the file's SHA-256 in hex. */
async function sha256Reply(conn: Connection, arg: string) {
  try {
    const bytes = await Deno.readFile(fsPathOf(conn, arg));
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"));
    return conn.reply(213, hex.join(""));
  } catch {
    return conn.reply(550, "No such file");
  }
}
