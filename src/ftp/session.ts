/**
 * One logged-in FTP connection with the few operations an upload needs:
 * MKD, SIZE, upload at an offset (REST+STOR, APPE or STOR), rename, hash,
 * and those that tell what is already there: a folder's listing, one file's
 * size and time, setting a file's time. The resume protocol lives here once; how bytes and commands travel is left
 * to the two transports: `native_session.ts` (Deno's own TCP, plain FTP, the
 * fast path) and `basic_ftp_session.ts` (npm basic-ftp, for FTPS). Retry
 * decisions live elsewhere (`retry.ts`, `uploader.ts`). Over 350 lines: every
 * operation here is built on the transports' protected command and data
 * primitives; the parsing they need lives in `listing.ts` and `set_mtime.ts`.
 *
 * @module
 */

import { posix } from "node:path";
import { Code, isCompletion, isNegative, isPermanent, isPreliminary, isSuccess } from "./codes.ts";
import {
  ConnectionLost,
  FTPError,
  LocalFileError,
  PartialUploadError,
  ResumeRefused,
  TransferFailed,
} from "./errors.ts";
import { type Reply, sizeFrom } from "./reply.ts";
import {
  entryFromSizeMdtm,
  type Listing,
  parseList,
  parseMlsd,
  parseMlst,
  type RemoteEntry,
} from "./listing.ts";
import { setRemoteTime, type SetTimeResult, type TimeSetting } from "./set_mtime.ts";
import { type Codec, UnencodableName } from "./encoding.ts";

/** How a partial remote file is continued. */
export type ResumeMethod = "rest" | "appe" | "restart";

/** What the server can do, learned from FEAT and from its replies; kept per connection. */
export interface ServerAbilities {
  /** FEAT lists `REST STREAM`, or a REST was answered 350. `undefined` = not known yet. */
  restStore?: boolean;
  /** APPE worked (true), or was refused before any data moved (false). */
  append?: boolean;
  /** Hash command offered in FEAT (XSHA256, XSHA1, XMD5, HASH, XCRC), if any. */
  hash?: string;
  /**
   * Data may go out as soon as the data connection is open, before the `150` (the server's
   * kernel holds it until the server takes the connection): a round trip per file. Turned
   * off (`false`) when a transfer sent that way is refused midway or comes out short.
   */
  earlyData?: boolean;
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

/** What a transfer moved: bytes read from the file and bytes written to the data connection. */
export interface Sent {
  read: number;
  written: number;
}

/** The local file of a transfer, opened (and positioned at the start offset) before any command. */
export interface LocalSource {
  path: string;
  file: Deno.FsFile;
  /** Bytes this transfer is to send (the file from its start offset). */
  length: number;
}

/**
 * Largest transfer whose data goes out before the `150` (`abilities.earlyData`); at most
 * this much is sent before it in any case. What a STOR that is refused, or never reaches
 * the server, wastes on the wire stays small.
 */
export const EARLY_DATA_BYTES = 64 * 1024;

/** Most bytes one folder listing may take: a hostile server could send forever. */
export const MAX_LISTING_BYTES = 64 * 1024 * 1024;

const HASH_COMMANDS = ["XSHA256", "XSHA1", "XMD5", "HASH", "XCRC"];

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

/** A logged-in connection. One command at a time. */
export abstract class Session {
  readonly abilities: ServerAbilities;

  constructor(
    /** FEAT's answer: feature name (upper case) -> the rest of its line. */
    readonly features: ReadonlyMap<string, string>,
  ) {
    this.abilities = {
      restStore: features.get("REST")?.toUpperCase() === "STREAM" ? true : undefined,
      hash: HASH_COMMANDS.find((c) => features.has(c)),
    };
  }

  /** The server's legacy code page for names (`server.encoding`); absent = UTF-8. */
  abstract get codec(): Codec | undefined;
  abstract get closed(): boolean;

  /** Bytes the transfer under way has written to its data connection (0 between transfers): live progress. */
  get sending(): number {
    return this.inFlight?.() ?? 0;
  }
  /** Set by a transport for the length of one transfer: its count of bytes written so far. */
  protected inFlight?: () => number;
  /** Drops the connection, and any data connection with it, at once. */
  abstract close(): void;
  /** Sends one command; returns its final reply (error replies too); a lost connection throws. */
  protected abstract command(line: string): Promise<Reply>;

  /** Sends commands whose order alone matters (no reply decides the next); one reply each. */
  protected async commands(lines: string[]): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (const line of lines) replies.push(await this.command(line));
    return replies;
  }
  /**
   * SIZE after a transfer's final reply. `prepare`: the next file follows on this
   * connection, and a transport may send what it needs for it in the same write.
   */
  protected sizeAfter(path: string, _prepare: boolean): Promise<Reply> {
    return this.command(`SIZE ${path}`);
  }

  /**
   * RNFR+RNTO (after `before`, a command about `from` such as setting its time) to go out
   * in front of the next command (the next file's STOR), their replies, in order, read
   * before its own; `undefined` where the transport cannot (then `rename`).
   */
  rideRename(_from: string, _to: string, _before?: string): Promise<Reply[]> | undefined {
    return undefined;
  }

  /** Sends whatever rides (`rideRename`) on its own and reads the replies. */
  async flush(): Promise<void> {}

  /** Opens the passive data connection (before REST, which must directly precede STOR). */
  protected abstract openData(): Promise<void>;
  /**
   * Sends a listing command (`MLSD`, `LIST`) over the open data connection and
   * returns what came, at most `max` bytes (more is a ProtocolError and closes
   * the session). Throws FTPError when the server refuses the command.
   */
  protected abstract receive(line: string, max: number): Promise<Uint8Array>;
  /** Drops a data connection opened for a transfer that will not happen. */
  protected abstract abandonData(): void;
  /**
   * Sends STOR/APPE, streams the file from `start` over the open data
   * connection, waits for the final reply. Throws FTPError for a command
   * refused before any data moved, LocalFileError when the file cannot be
   * read, or TransferFailed.
   */
  protected abstract transfer(
    verb: "STOR" | "APPE",
    remotePath: string,
    source: LocalSource,
    start: number,
  ): Promise<Sent>;

  /** Logs out politely, then closes. */
  async quit(): Promise<void> {
    if (this.closed) return;
    try {
      await this.command("QUIT");
    } catch { /* closing anyway */ }
    this.close();
  }

  /** The replies got out of step with the commands: close, never reuse. */
  protected outOfStep(line: string, reply: Reply): ConnectionLost {
    this.close();
    return new ConnectionLost(`reply out of step: ${line.split(" ")[0]} got ${reply.message}`);
  }

  /**
   * Creates a folder; a folder that is already there counts as success.
   * Returns true when this call created it (so it is empty).
   */
  async mkdir(dir: string): Promise<boolean> {
    const reply = await this.command(`MKD ${dir}`);
    if (isSuccess(reply.code)) return true;
    // 550 is also what servers say for "exists": check before failing.
    if (await this.isDir(dir)) return false;
    throw new FTPError(reply);
  }

  /**
   * `mkdir` for many folders in order (parents first): their MKDs pipelined, then the
   * CWDs that tell "exists" from a refusal. Per folder: true created, false already
   * there, or the refusal (the caller decides about those one by one).
   */
  async mkdirAll(dirs: string[]): Promise<(boolean | FTPError)[]> {
    const made = await this.commands(dirs.map((d) => `MKD ${d}`));
    const refused = dirs.filter((_, i) => !isSuccess(made[i].code));
    const there = await this.commands(refused.map((d) => `CWD ${d}`));
    let k = 0;
    return made.map((reply) => {
      if (isSuccess(reply.code)) return true;
      return isCompletion(there[k++].code) ? false : new FTPError(reply);
    });
  }

  async isDir(dir: string): Promise<boolean> {
    const reply = await this.command(`CWD ${dir}`);
    return isCompletion(reply.code);
  }

  /** SIZE of a remote file; `undefined` when the server says it is not there (5xx). */
  async size(path: string): Promise<number | undefined> {
    const line = `SIZE ${path}`;
    const reply = await this.command(line);
    if (isSuccess(reply.code) && reply.code !== Code.FileStatus) throw this.outOfStep(line, reply);
    return sizeFrom(reply);
  }

  /**
   * Sends `localPath` from `offset` to `remotePath`, then asks its SIZE. With
   * offset 0 it is a plain STOR. Otherwise `method` says how to continue; a
   * server that refuses it (the REST, or the STOR/APPE before any data moved)
   * makes this throw `ResumeRefused` so the caller can pick the next method (the
   * refusal is remembered in `abilities`). The local file is opened first: a
   * missing or unreadable one throws LocalFileError before anything is sent.
   * `prepareNext` (asked once the transfer is over): another file follows.
   */
  async upload(
    localPath: string,
    remotePath: string,
    offset: number,
    method: ResumeMethod,
    size: number,
    prepareNext: boolean | (() => boolean) = false,
  ): Promise<UploadOutcome> {
    const start = method === "restart" ? 0 : offset;
    const verb = start > 0 && method === "appe" ? "APPE" : "STOR";
    const source = { path: localPath, file: openSource(localPath, start), length: size - start };
    const early = this.abilities.earlyData !== false && size - start <= EARLY_DATA_BYTES;
    let sent: Sent;
    try {
      try {
        sent = await this.#send(verb, remotePath, source, start);
      } catch (e) {
        // Refused before any byte moved, so the local file is still at `start`.
        if (!(await this.#removedHiddenLeftover(e, remotePath))) throw e;
        sent = await this.#send(verb, remotePath, source, start);
      }
    } finally {
      source.file.close();
      this.inFlight = undefined;
    }
    // Reading more or less than the run saw at the start means the file changed meanwhile.
    if (sent.read !== size - start) {
      throw new LocalFileError(
        `local file changed during the run (read ${sent.read} bytes from offset ${start}, ` +
          `expected ${size - start}); run again to upload the new content`,
      );
    }
    // Asked only now: pure-ftpd answers `500 Unknown command` to (and drops) any command
    // received while a transfer is open, and ProFTPD with HiddenStores answers 550 for the
    // file until the transfer's final reply is out. One round trip per file, shared with
    // the next file's EPSV (`prepareNext`).
    let after: number | undefined;
    try {
      const line = `SIZE ${remotePath}`;
      const prepare = typeof prepareNext === "function" ? prepareNext() : prepareNext;
      const reply = await this.sizeAfter(remotePath, prepare);
      if (isSuccess(reply.code) && reply.code !== Code.FileStatus) {
        throw this.outOfStep(line, reply);
      }
      after = sizeFrom(reply);
    } catch (e) {
      throw new PartialUploadError(e, sent.written, start);
    }
    // Short or long after data sent before the `150`: wait for it from now on.
    if (early && after !== size) this.abilities.earlyData = false;
    return { offset: start, bytesSent: sent.written, sizeAfter: { size: after } };
  }

  /**
   * ProFTPD with `HiddenStores on` writes an upload to `.in.<name>.` and renames it at the end.
   * A session killed mid-transfer leaves that file behind, and every later STOR of the name is
   * refused: `550 <name>: Temporary hidden file <dir>/.in.<name>. already exists`. That file is
   * the server's copy of this very upload, never a user's: delete exactly it (once) and go on.
   */
  async #removedHiddenLeftover(e: unknown, remotePath: string): Promise<boolean> {
    if (!(e instanceof PartialUploadError) || e.code !== Code.FileUnavailable) return false;
    if (e.bytesSent !== 0) return false;
    const named = e.message.match(/Temporary hidden file (.+) already exists/)?.[1];
    const hidden = posix.join(posix.dirname(remotePath), `.in.${posix.basename(remotePath)}.`);
    if (named !== hidden) return false;
    return isSuccess((await this.command(`DELE ${hidden}`)).code);
  }

  /** REST (when resuming that way), then the transfer; errors as `upload` says. */
  async #send(
    verb: "STOR" | "APPE",
    remotePath: string,
    source: LocalSource,
    start: number,
  ): Promise<Sent> {
    // Passive data connection first: REST must be the last command before STOR (RFC 3659).
    await this.openData();
    const rest = verb === "STOR" && start > 0;
    if (rest) {
      const reply = await this.command(`REST ${start}`);
      if (reply.code !== Code.PendingFurtherInfo) {
        this.abandonData();
        if (isPreliminary(reply.code) || isSuccess(reply.code)) {
          throw this.outOfStep(`REST ${start}`, reply);
        }
        this.abilities.restStore = false;
        throw new ResumeRefused(`server refused REST ${start}: ${reply.message}`);
      }
      this.abilities.restStore = true;
    }
    try {
      const sent = await this.transfer(verb, remotePath, source, start);
      if (verb === "APPE") this.abilities.append = true;
      return sent;
    } catch (e) {
      if (e instanceof FTPError) {
        // Refused before any data moved. ProFTPD with `AllowStoreRestart off` takes the REST
        // (350) and then refuses the STOR, and APPE, with `451 Append/Restart not permitted`:
        // what the server did, not the code class, says the method is refused.
        if (start > 0 && !NOT_ABOUT_RESUME.has(e.code)) {
          if (rest) this.abilities.restStore = false;
          else this.abilities.append = false;
          throw new ResumeRefused(
            `server refused ${rest ? `STOR after REST ${start}` : "APPE"}: ${e.message}`,
          );
        }
        throw new PartialUploadError(e, 0, start);
      }
      if (e instanceof LocalFileError) throw e;
      // A name the server's code page cannot carry: refused before the command went out.
      if (e instanceof TransferFailed && e.cause instanceof UnencodableName) throw e.cause;
      if (e instanceof TransferFailed) throw new PartialUploadError(e.cause, e.bytesSent, start);
      throw new PartialUploadError(e, 0, start);
    }
  }

  /**
   * RNFR/RNTO onto `to`. Some servers (Windows ones) will not rename onto an existing
   * file and refuse RNTO with 550/553; only then, and only when `to` is there (SIZE or
   * MDTM says so), the old file is deleted and the rename tried again. A transient (4xx)
   * refusal never deletes anything. `before`, a command about `from` whose answer decides
   * nothing here (setting its time), goes out in the same write; its reply is returned.
   */
  async rename(from: string, to: string, before?: string): Promise<Reply | undefined> {
    // Safe to send together: a refused RNFR makes the RNTO fail too.
    const lines = [`RNFR ${from}`, `RNTO ${to}`];
    const replies = await this.commands(before === undefined ? lines : [before, ...lines]);
    const first = before === undefined ? undefined : replies.shift();
    const [rnfr, rnto] = replies;
    if (isNegative(rnfr.code)) throw new FTPError(rnfr);
    if (!isNegative(rnto.code)) return first;
    const refusesOverwrite = rnto.code === Code.FileUnavailable || rnto.code === Code.BadFileName;
    if (!refusesOverwrite || !(await this.#exists(to))) throw new FTPError(rnto);
    const dele = await this.command(`DELE ${to}`);
    if (isNegative(dele.code)) {
      throw new FTPError({
        code: rnto.code,
        message: `${rnto.message} (the old file could not be deleted either: ${dele.message})`,
      });
    }
    for (const reply of await this.commands([`RNFR ${from}`, `RNTO ${to}`])) {
      if (isNegative(reply.code)) {
        throw new FTPError({
          code: reply.code,
          message: `rename failed after the old destination was deleted: ${to} is gone and ` +
            `the new content is still at ${from} (${reply.message})`,
        });
      }
    }
    return first;
  }

  /** Whether a plain file is at `path`: SIZE, or MDTM where SIZE is not implemented. */
  async #exists(path: string): Promise<boolean> {
    const size = await this.command(`SIZE ${path}`);
    if (size.code === Code.FileStatus) return true;
    if (size.code === Code.FileUnavailable || !isPermanent(size.code)) return false;
    return (await this.command(`MDTM ${path}`)).code === Code.FileStatus;
  }

  /**
   * What the server has in `dir`: one MLSD where FEAT lists MLST, else one LIST
   * (see listing.ts), after a CWD into it so no server reads the folder's name as
   * LIST options or a wildcard pattern. `undefined` when the folder cannot be
   * entered (CWD refused: not there). FTPError when the listing is refused;
   * ProtocolError for a listing too big or in no known format.
   */
  async list(dir: string, maxBytes = MAX_LISTING_BYTES): Promise<Listing | undefined> {
    const cwd = await this.command(`CWD ${dir}`);
    if (isNegative(cwd.code)) return undefined;
    if (!isCompletion(cwd.code)) throw this.outOfStep(`CWD ${dir}`, cwd);
    const mlsd = this.features.has("MLST");
    await this.openData();
    const bytes = await this.receive(mlsd ? "MLSD" : "LIST", maxBytes);
    // Names come in the server's code page where one is configured, else UTF-8.
    const text = this.codec ? this.codec.decoder()(bytes) : bytes;
    return mlsd ? parseMlsd(text) : await parseList(text);
  }

  /** One file's size and time (MLST, else SIZE and MDTM): the last resort, per file. */
  async stat(path: string): Promise<RemoteEntry | undefined> {
    if (this.features.has("MLST")) return parseMlst(await this.command(`MLST ${path}`));
    const [size, mdtm] = await this.commands([`SIZE ${path}`, `MDTM ${path}`]);
    return entryFromSizeMdtm(size, mdtm);
  }

  /** Sets `path`'s modification time with the command `setting` has learned (set_mtime.ts). */
  setTime(
    setting: TimeSetting,
    path: string,
    mtimeMs: number,
    opts?: { probe?: boolean },
  ): Promise<SetTimeResult> {
    return setRemoteTime(setting, (line) => this.command(line), path, mtimeMs, opts);
  }

  /** Deletes a file this client created for itself (the time probe); true when it is gone. */
  async remove(path: string): Promise<boolean> {
    return isCompletion((await this.command(`DELE ${path}`)).code);
  }

  /**
   * DELE for the delete mode (`run/deploy_delete.ts`) and RMD of a folder it saw empty: the
   * reply itself, so the caller can tell "removed" from "not there" from a refusal. RMD is
   * only ever asked of an empty folder: some servers' RMD removes a whole tree.
   */
  deleteFile(path: string): Promise<Reply> {
    return this.command(`DELE ${path}`);
  }

  removeEmptyDir(path: string): Promise<Reply> {
    return this.command(`RMD ${path}`);
  }

  /**
   * A small remote file's bytes (RETR), at most `max` (a deploy manifest, a lock's owner
   * file); `undefined` when the server says it is not there (a permanent refusal).
   */
  async retrieve(path: string, max: number): Promise<Uint8Array | undefined> {
    await this.openData();
    try {
      return await this.receive(`RETR ${path}`, max);
    } catch (e) {
      if (e instanceof FTPError && isPermanent(e.code)) return undefined;
      throw e;
    }
  }

  /** The server's hash of a file with the command FEAT offered, lower-case hex, or undefined. */
  async hash(path: string): Promise<string | undefined> {
    const cmd = this.abilities.hash;
    if (!cmd) return undefined;
    const reply = await this.command(`${cmd} ${path}`);
    if (isNegative(reply.code)) return undefined;
    return reply.message.match(/\b([0-9a-fA-F]{8,128})\b/)?.[1].toLowerCase();
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

/** The chunks a data connection delivered, as one array of `total` bytes. */
export function joinChunks(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const bytes = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    bytes.set(c, off);
    off += c.length;
  }
  return bytes;
}
