/**
 * Sending one local file to the server from an offset: a plain STOR, or a
 * resume (REST+STOR, or APPE), then SIZE to learn what the server has. The
 * resume protocol lives here once, for both transports; which method to try
 * next after a refusal is the caller's decision (`src/upload/`), made from
 * the `ResumeRefused` thrown here and the `abilities` learned.
 *
 * Server quirks handled here:
 * - pure-ftpd answers `500 Unknown command` to (and drops) any command that
 *   arrives while a transfer is open: SIZE is sent only after the final reply.
 * - ProFTPD with `HiddenStores on` answers 550 for the file until the final
 *   reply is out (same cure), and leaves `.in.<name>.` behind when a session is
 *   killed mid-transfer, refusing every later STOR of the name with `550 ...
 *   Temporary hidden file ... already exists`: that file is deleted, once.
 * - ProFTPD with `AllowStoreRestart off` takes the REST (350) and then refuses
 *   the STOR, and APPE, with `451 Append/Restart not permitted`.
 * - vsftpd opens a STOR's file and then `ftruncate`s it, even a new one. On ext4
 *   that arms `auto_da_alloc`: the `close` after the `226` allocates and starts
 *   writing the whole file before vsftpd reads the next command (about 70 ms per
 *   256 MiB here, the other sessions' transfers stalling meanwhile). APPE of a
 *   file that is not there creates it without the truncate, so a large file
 *   known to be new goes up with APPE on vsftpd (`abilities.truncatesStore`);
 *   the SIZE after it proves the bytes as ever. Refused (`cmds_denied`): STOR.
 *
 * Where the server holds them (`trailing.ts`: vsftpd, pure-ftpd, ProFTPD; not
 * pyftpdlib), the SIZE goes in the STOR's own write, its reply read after the
 * final one: the same proof, a round trip less.
 *
 * @module
 */

import * as posix from "./posix_path.ts";
import { Code, isPreliminary, isSuccess } from "./codes.ts";
import {
  EarlyTlsRefused,
  FTPError,
  LocalFileError,
  PartialUploadError,
  ResumeRefused,
  TransferFailed,
} from "./errors.ts";
import { UnencodableName } from "./encoding.ts";
import type { ServerAbilities } from "./abilities.ts";
import { sizeFrom } from "./reply.ts";
import type { TrailRequest } from "./trailing.ts";
import type { EarlyTlsRequest } from "./early_tls.ts";
import {
  EARLY_DATA_BYTES,
  type LocalSource,
  outOfStep,
  type Sent,
  type Transport,
} from "./transport.ts";

/** How a partial remote file is continued. */
export type ResumeMethod = "rest" | "appe" | "restart";

/** One upload attempt: which file, where to, from where, how. */
export interface UploadOptions {
  localPath: string;
  remotePath: string;
  /** Bytes the server already has: where a resume starts (0: a full upload). */
  offset: number;
  /** How to continue from `offset` ("restart": send the whole file again). */
  method: ResumeMethod;
  /** The local file's size as the run saw it; reading more or less fails the upload. */
  size: number;
  /**
   * Another file follows on this connection (asked once the transfer is over): the
   * transport may prepare for it with the SIZE.
   */
  nextFollows?: boolean | (() => boolean);
  /** Nothing is at `remotePath`: the server said so, or its folder is new in this run. */
  absent?: boolean;
}

/** Result of one upload attempt that reached the end of the data. */
export interface UploadOutcome {
  /** Where in the file this attempt started (0 for a full upload). */
  offset: number;
  /** Bytes written to the data connection. */
  bytesSent: number;
  /** SIZE asked after the transfer's final reply (`size` undefined: no such file). */
  sizeAfter?: { size: number | undefined };
}

/**
 * Refusals of a resumed STOR or of APPE that say something other than "not this
 * way" (storage full, no data connection, login, closing, a bad name): a full
 * STOR would meet them too, so they do not turn a resume method off.
 */
const NOT_ABOUT_RESUME: ReadonlySet<number> = new Set([
  Code.ServiceNotAvailable,
  Code.CantOpenData,
  Code.TransferAborted,
  Code.InsufficientStorage,
  Code.NotLoggedIn,
  Code.NeedAccountForStoring,
  Code.ExceededStorage,
  Code.BadFileName,
]);

/**
 * Sends `options.localPath` from its offset, then asks its SIZE. A server that refuses the
 * resume method (the REST, or the STOR/APPE before any data moved) makes this throw
 * `ResumeRefused` (the refusal is remembered in `abilities`). The local file is opened
 * first: a missing or unreadable one throws LocalFileError before anything is sent.
 */
export async function storeFile(
  transport: Transport,
  abilities: ServerAbilities,
  options: UploadOptions,
): Promise<UploadOutcome> {
  const { localPath, remotePath, method, size } = options;
  const start = method === "restart" ? 0 : options.offset;
  const appendNew = appendsNew(abilities, options, start);
  const verb = (start > 0 && method === "appe") || appendNew ? "APPE" : "STOR";
  const source = { path: localPath, file: openSource(localPath, start), length: size - start };
  const early = earlyAllowed(transport, abilities, source.length);
  const next = follows(options.nextFollows);
  const attempt = new Attempt(transport, abilities, verb, remotePath, source, start, next);
  let sent: Sent;
  try {
    try {
      sent = await attempt.send();
    } catch (e) {
      // Refused before any byte moved, so the local file is still at `start`.
      if (appendNew && refusedBeforeData(e)) {
        sent = await storeInstead(
          abilities,
          new Attempt(transport, abilities, "STOR", remotePath, source, 0, next),
        );
      } else {
        if (!(await removedHiddenLeftover(transport, e, remotePath))) throw e;
        sent = await attempt.send();
      }
    }
  } finally {
    source.file.close();
  }
  // Reading more or less than the run saw at the start means the file changed meanwhile.
  if (sent.read !== size - start) {
    throw new LocalFileError(
      `local file changed during the run (read ${sent.read} bytes from offset ${start}, ` +
        `expected ${size - start}); run again to upload the new content`,
    );
  }
  const after = await sizeAfter(transport, options, sent, start);
  // Short or long after data sent before the `150`: wait for it from now on.
  if (early && after !== size) abilities.earlyData = false;
  return { offset: start, bytesSent: sent.written, sizeAfter: { size: after } };
}

/** A new file at least this big goes up with APPE where the server truncates on STOR. */
export const APPEND_NEW_MIN = 1024 * 1024;

/**
 * Whether this full upload goes up with APPE: a large file known to be new, to a server
 * that truncates a STOR's file (vsftpd, see the module doc) and has not refused APPE.
 */
function appendsNew(abilities: ServerAbilities, options: UploadOptions, start: number): boolean {
  return start === 0 && options.method !== "restart" && options.absent === true &&
    options.size >= APPEND_NEW_MIN && abilities.truncatesStore === true &&
    abilities.append !== false;
}

/**
 * The new file's APPE was refused: APPE is off (no new file and no resume uses it) and the
 * file goes with STOR. Refused as well, the refusal was not about APPE: as it was before.
 */
async function storeInstead(abilities: ServerAbilities, stor: Attempt): Promise<Sent> {
  const before = abilities.append;
  abilities.append = false;
  try {
    return await stor.send();
  } catch (e) {
    if (refusedBeforeData(e)) abilities.append = before;
    throw e;
  }
}

/** The transfer command itself was refused for good (5xx), before any data moved. */
function refusedBeforeData(e: unknown): boolean {
  return e instanceof PartialUploadError && e.bytesSent === 0 && e.code !== undefined &&
    e.code >= 500 && !NOT_ABOUT_RESUME.has(e.code);
}

/** Whether a transfer of `length` bytes may send its data before the `150`. */
function earlyAllowed(transport: Transport, abilities: ServerAbilities, length: number): boolean {
  // Only a transfer that fits: for a big file the round trip saved is noise, and a
  // refused or lost STOR would waste more on the wire.
  return transport.earlyData && abilities.earlyData !== false && length <= EARLY_DATA_BYTES;
}

/**
 * SIZE once the transfer's final reply is in (pure-ftpd, ProFTPD HiddenStores: see the
 * module doc). One round trip per file, shared with the next file's EPSV (`nextFollows`).
 */
async function sizeAfter(
  transport: Transport,
  options: UploadOptions,
  sent: Sent,
  start: number,
): Promise<number | undefined> {
  try {
    const line = `SIZE ${options.remotePath}`;
    const next = follows(options.nextFollows);
    const reply = await transport.sizeAfterTransfer(options.remotePath, next);
    if (isSuccess(reply.code) && reply.code !== Code.FileStatus) {
      throw outOfStep(transport, line, reply);
    }
    return sizeFrom(reply);
  } catch (e) {
    throw new PartialUploadError(e, sent.written, start);
  }
}

/** Whether another file follows on this connection (asked now). */
function follows(nextFollows: UploadOptions["nextFollows"] = false): boolean {
  return typeof nextFollows === "function" ? nextFollows() : nextFollows;
}

/**
 * What may trail the transfer command (`trailing.ts`): a NOOP while the server is not
 * known, SIZE (and the next EPSV) where it held them, nothing where it did not.
 */
function trailFor(
  transport: Transport,
  abilities: ServerAbilities,
  next: boolean,
): TrailRequest | undefined {
  if (!transport.trailing || abilities.trailing === false) return undefined;
  return { mode: abilities.trailing ? "size" : "probe", next };
}

/** FTPS: whether the data connection's TLS starts with it (`early_tls.ts`): probed until known. */
function earlyTlsFor(
  transport: Transport,
  abilities: ServerAbilities,
): EarlyTlsRequest | undefined {
  if (!transport.earlyTls || abilities.earlyTls === false) return undefined;
  return { mode: abilities.earlyTls ? "on" : "probe" };
}

/** Replies that say the data connection could not be used: early TLS is not for this server. */
const DATA_REFUSED: ReadonlySet<number> = new Set([
  Code.CantOpenData,
  Code.TransferAborted,
  Code.TlsRefused,
]);

/**
 * A transfer whose early TLS handshake did not finish, refused with no byte of the file sent:
 * the handshake failed (`outcome` set by the transport), or the server said the data
 * connection could not be used. Any other failure says nothing of early TLS.
 */
function earlyTlsFailed(tls: EarlyTlsRequest, e: unknown): boolean {
  if (tls.outcome === "refused") return true;
  if (tls.phase === "secured") return false;
  const reply = e instanceof TransferFailed ? e.cause : e;
  if (!(reply instanceof FTPError) || !DATA_REFUSED.has(reply.code)) return false;
  return !(e instanceof TransferFailed) || e.bytesSent === 0;
}

/**
 * ProFTPD with `HiddenStores on` writes an upload to `.in.<name>.` and renames it at the end.
 * A session killed mid-transfer leaves that file behind, and every later STOR of the name is
 * refused: `550 <name>: Temporary hidden file <dir>/.in.<name>. already exists`. That file is
 * the server's copy of this very upload, never a user's: delete exactly it (once) and go on.
 */
async function removedHiddenLeftover(
  transport: Transport,
  e: unknown,
  remotePath: string,
): Promise<boolean> {
  if (!(e instanceof PartialUploadError) || e.code !== Code.FileUnavailable) return false;
  if (e.bytesSent !== 0) return false;
  const named = e.message.match(/Temporary hidden file (.+) already exists/)?.[1];
  const hidden = posix.join(posix.dirname(remotePath), `.in.${posix.basename(remotePath)}.`);
  if (named !== hidden) return false;
  return isSuccess((await transport.command(`DELE ${hidden}`)).code);
}

/** One STOR or APPE of an opened file: REST when resuming that way, then the transfer. */
class Attempt {
  constructor(
    readonly transport: Transport,
    readonly abilities: ServerAbilities,
    readonly verb: "STOR" | "APPE",
    readonly remotePath: string,
    readonly source: LocalSource,
    readonly start: number,
    /** Another file follows on this connection: its EPSV may trail the transfer. */
    readonly next: boolean,
  ) {}

  /** REST when resuming that way, then the transfer; errors as `storeFile` says. */
  async send(): Promise<Sent> {
    const { transport, abilities, verb, start } = this;
    // Passive data connection first: REST must be the last command before STOR (RFC 3659).
    const tls = earlyTlsFor(transport, abilities);
    await transport.openData(tls);
    // The probe saw the early handshake refused: `openData` opened another connection.
    if (tls?.outcome === "refused") abilities.earlyTls = false;
    const rest = verb === "STOR" && start > 0;
    if (rest) await this.#rest();
    const early = earlyAllowed(transport, abilities, this.source.length);
    const trail = trailFor(transport, abilities, this.next);
    try {
      const sent = await transport.transfer({
        verb,
        remotePath: this.remotePath,
        source: this.source,
        start,
        early,
        ...(trail ? { trail } : {}),
      });
      if (verb === "APPE") abilities.append = true;
      return sent;
    } catch (e) {
      // A server that would not take data sent before its `150` (a `425`/`426` as the final
      // reply): wait for the `150` from now on. A `552` turns it off too, which costs only time.
      if (early && e instanceof TransferFailed && e.cause instanceof FTPError) {
        abilities.earlyData = false;
      }
      if (tls && earlyTlsFailed(tls, e)) {
        // Nothing of the file went: the same try again at once, TLS after the `150`.
        tls.outcome = "refused";
        throw new EarlyTlsRefused(e instanceof Error ? e.message : String(e));
      }
      throw this.#failure(e, rest);
    } finally {
      // Learned for the rest of the run (`connection.ts` keeps it across reconnects).
      if (trail?.outcome) abilities.trailing = trail.outcome === "held";
      if (tls?.outcome) abilities.earlyTls = tls.outcome === "held";
    }
  }

  /** `REST start`; ResumeRefused when the server will not. */
  async #rest(): Promise<void> {
    const line = `REST ${this.start}`;
    const reply = await this.transport.command(line);
    if (reply.code !== Code.PendingFurtherInfo) {
      this.transport.abandonData();
      if (isPreliminary(reply.code) || isSuccess(reply.code)) {
        throw outOfStep(this.transport, line, reply);
      }
      this.abilities.restStore = false;
      throw new ResumeRefused(`server refused ${line}: ${reply.message}`);
    }
    this.abilities.restStore = true;
  }

  /** What a failed transfer is to the caller. */
  #failure(e: unknown, rest: boolean): unknown {
    const { start } = this;
    if (e instanceof FTPError) {
      // Refused before any data moved. ProFTPD with `AllowStoreRestart off` takes the REST
      // (350) and then refuses the STOR, and APPE, with `451 Append/Restart not permitted`:
      // what the server did, not the code class, says the method is refused.
      if (start > 0 && !NOT_ABOUT_RESUME.has(e.code)) {
        if (rest) this.abilities.restStore = false;
        else this.abilities.append = false;
        return new ResumeRefused(
          `server refused ${rest ? `STOR after REST ${start}` : "APPE"}: ${e.message}`,
        );
      }
      return new PartialUploadError(e, 0, start);
    }
    if (e instanceof LocalFileError) return e;
    // A name the server's code page cannot carry: refused before the command went out.
    if (e instanceof TransferFailed && e.cause instanceof UnencodableName) return e.cause;
    if (e instanceof TransferFailed) return new PartialUploadError(e.cause, e.bytesSent, start);
    return new PartialUploadError(e, 0, start);
  }
}

/** Opens the local file at `start`; a missing or unreadable one is a LocalFileError. */
function openSource(path: string, start: number): Deno.FsFile {
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(path, { read: true });
    if (start > 0) file.seekSync(start, Deno.SeekMode.Start);
    return file;
  } catch (e) {
    file?.close();
    throw new LocalFileError(`local file unreadable: ${e instanceof Error ? e.message : e}`);
  }
}
