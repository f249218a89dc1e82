/**
 * The embedded server's commands: each command line of a connection, in
 * order, either answered here (what ftp-srv lacks or gets wrong: see
 * `embedded_server.ts`'s header) or passed on to ftp-srv, path arguments
 * verbatim.
 *
 * @module
 */
import type { Connection, Connector } from "./internals.ts";
import { setTime } from "./set_time.ts";
import { store, type StoreContext } from "./store.ts";
import { featReply, refuseWrongKind, sha256Reply, sizeReply } from "./replies.ts";

/** One control connection as the server tracks it. */
export interface Session {
  conn: Connection;
  ip: string;
  stores: number;
  /** Counted against `faults.maxConnections` (from USER on). */
  holdsSlot: boolean;
  loggedIn: boolean;
  /** Passive data connections still open (closed with the server). */
  connectors: Set<Connector>;
}

/** What every connection's commands share: the faults, the stats, the other sessions. */
export interface ServerState extends StoreContext {
  sessions: Map<Connection, Session>;
  /** The server keeps names as bytes (`EmbeddedServerOptions.byteNames`). */
  byteNames: boolean;
}

/** ftp-srv's own handling of a command line (or of a parsed command). */
export type Handle = Connection["commands"]["handle"];

const MAX_COMMANDS = 10000;
/** Commands whose argument is a path: passed verbatim (ftp-srv's parser would mangle it). */
const PATH_COMMANDS = new Set(
  "CWD XCWD MKD XMKD RMD XRMD DELE RNFR RNTO SIZE MDTM RETR".split(" "),
);

/** Answers one command line of session `s`, or hands it to ftp-srv (`handle`). */
export async function intercept(state: ServerState, s: Session, line: string, handle: Handle) {
  const { conn } = s;
  const { faults, stats } = state;
  const word = line.split(" ", 1)[0];
  const directive = word.toUpperCase();
  const arg = line.length > word.length ? line.slice(word.length + 1) : null;
  stats.commands.push(directive === "PASS" ? "PASS ***" : line);
  if (stats.commands.length > MAX_COMMANDS) stats.commands.shift();

  switch (directive) {
    case "USER":
    case "PASS":
      if (conn.authenticated) break;
      return await login(state, s, directive, line, handle);
    case "REST":
      if (faults.refuseRest) return conn.reply(502, "Command not implemented");
      break;
    case "OPTS":
      if ((faults.rejectOptsUtf8 || state.byteNames) && /^utf-?8\b/i.test(arg ?? "")) {
        return conn.reply(501, "OPTS UTF8 not supported");
      }
      break;
    case "FEAT":
      return featReply(conn, faults, state.byteNames);
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
    case "PASV":
      return await passive(s, line, handle);
    case "APPE":
    case "STOR":
      return storeCommand(state, s, directive, arg ?? "");
  }
  return handle(PATH_COMMANDS.has(directive) ? { directive, arg, flags: [], raw: line } : line);
}

/**
 * USER/PASS before login: `faults.maxConnections` refuses one login too many from an
 * address (`421`, then the connection is closed), as vsftpd's and pure-ftpd's limits do.
 */
async function login(
  state: ServerState,
  s: Session,
  directive: string,
  line: string,
  handle: Handle,
) {
  const { conn } = s;
  const max = state.faults.maxConnections;
  if (max !== undefined && !s.holdsSlot) {
    const taken = [...state.sessions.values()].filter((o) => o.holdsSlot && o.ip === s.ip).length;
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
}

/** EPSV/PASV by ftp-srv, its data server kept track of and its late close defused. */
async function passive(s: Session, line: string, handle: Handle) {
  const { conn } = s;
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
}

/** STOR/APPE by `store.ts`, with the faults that act on the command itself. */
function storeCommand(state: ServerState, s: Session, directive: string, path: string) {
  const { conn } = s;
  const { faults, uses } = state;
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
  return store(conn, path, directive === "APPE", state);
}
