/**
 * One logged-in FTP connection with the few operations an upload needs:
 * MKD, SIZE, upload at an offset (`store.ts`), rename (`rename.ts`), hash,
 * and those that tell what is already there: a folder's listing, one file's
 * size and time, setting a file's time. How bytes and commands travel is the
 * `Transport`'s (`transport.ts`); what the server can do is learned in
 * `abilities`. Retry decisions live elsewhere (`src/upload/retry.ts`).
 *
 * @module
 */

import { Code, isCompletion, isNegative, isPermanent, isSuccess } from "./codes.ts";
import { FTPError } from "./errors.ts";
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
import type { Codec } from "./encoding.ts";
import { abilitiesFrom, type ServerAbilities } from "./abilities.ts";
import { storeFile, type UploadOptions, type UploadOutcome } from "./store.ts";
import { renameOnto } from "./rename.ts";
import { receiveList } from "./list_command.ts";
import { outOfStep, type Transport } from "./transport.ts";

export type { ServerAbilities };
export type { ResumeMethod, UploadOptions, UploadOutcome } from "./store.ts";

/** Most bytes one folder listing may take: a hostile server could send forever. */
export const MAX_LISTING_BYTES = 64 * 1024 * 1024;

/** A logged-in connection. One command at a time. */
export class Session {
  readonly abilities: ServerAbilities;

  constructor(
    readonly transport: Transport,
    /** FEAT's answer: feature name (upper case) -> the rest of its line. */
    readonly features: ReadonlyMap<string, string>,
  ) {
    this.abilities = abilitiesFrom(features);
  }

  /** The server's legacy code page for names (`server.encoding`); absent = UTF-8. */
  get codec(): Codec | undefined {
    return this.transport.codec;
  }

  get closed(): boolean {
    return this.transport.closed;
  }

  /** Bytes the transfer under way has written to its data connection (0 between transfers): live progress. */
  get sending(): number {
    return this.transport.sending;
  }

  /** Drops the connection, and any data connection with it, at once. */
  close(): void {
    this.transport.close();
  }

  /** Logs out politely, then closes. */
  async quit(): Promise<void> {
    if (this.closed) return;
    try {
      await this.transport.command("QUIT");
    } catch { /* closing anyway */ }
    this.close();
  }

  /**
   * RNFR+RNTO (after `before`, a command about `from` such as setting its time) to go out
   * in front of the next command (the next file's STOR), their replies, in order, read
   * before its own; `undefined` where the transport cannot (then `rename`).
   */
  renameWithNext(from: string, to: string, before?: string): Promise<Reply[]> | undefined {
    const lines = [`RNFR ${from}`, `RNTO ${to}`];
    return this.transport.sendWithNext(before === undefined ? lines : [before, ...lines]);
  }

  /** Sends whatever was queued (`renameWithNext`) on its own and reads the replies. */
  async flush(): Promise<void> {
    await this.transport.flush();
  }

  /**
   * Creates a folder; a folder that is already there counts as success.
   * Returns true when this call created it (so it is empty).
   */
  async mkdir(dir: string): Promise<boolean> {
    const reply = await this.transport.command(`MKD ${dir}`);
    if (isSuccess(reply.code)) return true;
    // A folder that exists gets a 550 too (vsftpd "Create directory operation failed",
    // ProFTPD and pure-ftpd "File exists"): check before failing.
    if (await this.isDir(dir)) return false;
    throw new FTPError(reply);
  }

  /**
   * `mkdir` for many folders in order (parents first): their MKDs pipelined, then the
   * CWDs that tell "exists" from a refusal. Per folder: true created, false already
   * there, or the refusal (the caller decides about those one by one).
   */
  async mkdirAll(dirs: string[]): Promise<(boolean | FTPError)[]> {
    const made = await this.transport.commands(dirs.map((d) => `MKD ${d}`));
    const refused = dirs.filter((_, i) => !isSuccess(made[i].code));
    const there = await this.transport.commands(refused.map((d) => `CWD ${d}`));
    let k = 0;
    return made.map((reply) => {
      if (isSuccess(reply.code)) return true;
      return isCompletion(there[k++].code) ? false : new FTPError(reply);
    });
  }

  async isDir(dir: string): Promise<boolean> {
    const reply = await this.transport.command(`CWD ${dir}`);
    return isCompletion(reply.code);
  }

  /** SIZE of a remote file; `undefined` when the server says it is not there (5xx). */
  async size(path: string): Promise<number | undefined> {
    const line = `SIZE ${path}`;
    const reply = await this.transport.command(line);
    if (isSuccess(reply.code) && reply.code !== Code.FileStatus) {
      throw outOfStep(this.transport, line, reply);
    }
    return sizeFrom(reply);
  }

  /**
   * Sends a local file from an offset, then asks its SIZE (`store.ts`): with offset 0 a
   * plain STOR, else as `method` says. ResumeRefused when the server refuses that method.
   */
  upload(options: UploadOptions): Promise<UploadOutcome> {
    return storeFile(this.transport, this.abilities, options);
  }

  /** RNFR/RNTO onto `to`, replacing it where a server will not (`rename.ts`). */
  rename(from: string, to: string, before?: string): Promise<Reply | undefined> {
    return renameOnto(this.transport, from, to, before);
  }

  /**
   * What the server has in `dir`: one MLSD where FEAT lists MLST, else one LIST
   * (`LIST -a` where the server takes it: `list_command.ts`; see listing.ts), after a CWD into it so no server reads the folder's name as
   * LIST options or a wildcard pattern. `undefined` when the folder cannot be
   * entered (CWD refused: not there). FTPError when the listing is refused;
   * ProtocolError for a listing too big or in no known format.
   */
  async list(dir: string, maxBytes = MAX_LISTING_BYTES): Promise<Listing | undefined> {
    const cwd = await this.transport.command(`CWD ${dir}`);
    if (isNegative(cwd.code)) return undefined;
    if (!isCompletion(cwd.code)) throw outOfStep(this.transport, `CWD ${dir}`, cwd);
    const mlsd = this.features.has("MLST");
    await this.transport.openData();
    const bytes = mlsd
      ? await this.transport.receive("MLSD", maxBytes)
      : await receiveList(this.transport, this.abilities, maxBytes);
    // Names come in the server's code page where one is configured, else UTF-8.
    const text = this.codec ? this.codec.decoder()(bytes) : bytes;
    return mlsd ? parseMlsd(text) : await parseList(text);
  }

  /** One file's size and time (MLST, else SIZE and MDTM): the last resort, per file. */
  async stat(path: string): Promise<RemoteEntry | undefined> {
    if (this.features.has("MLST")) {
      return parseMlst(await this.transport.command(`MLST ${path}`));
    }
    const [size, mdtm] = await this.transport.commands([`SIZE ${path}`, `MDTM ${path}`]);
    return entryFromSizeMdtm(size, mdtm);
  }

  /** Sets `path`'s modification time with the command `setting` has learned (set_mtime.ts). */
  setTime(
    setting: TimeSetting,
    path: string,
    mtimeMs: number,
    opts?: { probe?: boolean },
  ): Promise<SetTimeResult> {
    return setRemoteTime(setting, (line) => this.transport.command(line), path, mtimeMs, opts);
  }

  /** Deletes a file this client created for itself (the time probe); true when it is gone. */
  async remove(path: string): Promise<boolean> {
    return isCompletion((await this.transport.command(`DELE ${path}`)).code);
  }

  /**
   * DELE for the delete mode (`run/deploy/deploy_delete.ts`) and RMD of a folder it saw empty: the
   * reply itself, so the caller can tell "removed" from "not there" from a refusal. RMD is
   * only ever asked of an empty folder: some servers' RMD removes a whole tree.
   */
  deleteFile(path: string): Promise<Reply> {
    return this.transport.command(`DELE ${path}`);
  }

  removeEmptyDir(path: string): Promise<Reply> {
    return this.transport.command(`RMD ${path}`);
  }

  /**
   * A small remote file's bytes (RETR), at most `max` (a deploy manifest, a lock's owner
   * file); `undefined` when the server says it is not there (a permanent refusal).
   */
  async retrieve(path: string, max: number): Promise<Uint8Array | undefined> {
    await this.transport.openData();
    try {
      return await this.transport.receive(`RETR ${path}`, max);
    } catch (e) {
      if (e instanceof FTPError && isPermanent(e.code)) return undefined;
      throw e;
    }
  }

  /** The server's hash of a file with the command FEAT offered, lower-case hex, or undefined. */
  async hash(path: string): Promise<string | undefined> {
    const cmd = this.abilities.hash;
    if (!cmd) return undefined;
    const reply = await this.transport.command(`${cmd} ${path}`);
    if (isNegative(reply.code)) return undefined;
    return reply.message.match(/\b([0-9a-fA-F]{8,128})\b/)?.[1].toLowerCase();
  }
}
