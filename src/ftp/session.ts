/**
 * One logged-in FTP connection with the few operations an upload needs:
 * MKD, SIZE, upload at an offset (REST+STOR, APPE or STOR), rename, delete,
 * hash. The resume protocol lives here once; how bytes and commands travel
 * is left to the two transports: `native_session.ts` (Deno's own TCP, plain
 * FTP, the fast path) and `basic_ftp_session.ts` (npm basic-ftp, for FTPS).
 * Retry decisions live elsewhere (`retry.ts`, `uploader.ts`).
 *
 * @module
 */

import {
  FTPError,
  LocalFileError,
  PartialUploadError,
  ResumeRefused,
  TransferFailed,
} from "./errors.ts";
import { type Reply, sizeFrom } from "./reply.ts";

/** How a partial remote file is continued. */
export type ResumeMethod = "rest" | "appe" | "restart";

/** What the server can do, learned from FEAT and from its replies; kept per connection. */
export interface ServerAbilities {
  /** FEAT lists `REST STREAM`, or a REST was answered 350. `undefined` = not known yet. */
  restStore?: boolean;
  /** APPE worked, or failed with a "not implemented" reply. */
  append?: boolean;
  /** Hash command offered in FEAT (XSHA256, XSHA1, XMD5, HASH, XCRC), if any. */
  hash?: string;
  features: Map<string, string>;
}

/** Result of one upload attempt that reached the end of the data. */
export interface UploadOutcome {
  /** Where in the file this attempt started (0 for a full upload). */
  offset: number;
  method: "stor" | ResumeMethod;
  /** Bytes written to the data connection. */
  bytesSent: number;
  /** SIZE after the transfer (`undefined`: no such file), when the transport asked in passing. */
  sizeAfter?: { size: number | undefined };
}

/** What a transfer moved: bytes read from the file and bytes written to the data connection. */
export interface Sent {
  read: number;
  written: number;
  /** The server's SIZE of the file right after the transfer, where the transport asked for it. */
  sizeAfter?: Reply;
}

const HASH_COMMANDS = ["XSHA256", "XSHA1", "XMD5", "HASH", "XCRC"];

/** A logged-in connection. One command at a time. */
export abstract class Session {
  readonly abilities: ServerAbilities;

  constructor(features: Map<string, string>) {
    this.abilities = {
      features,
      restStore: features.get("REST")?.toUpperCase() === "STREAM" ? true : undefined,
      hash: HASH_COMMANDS.find((c) => features.has(c)),
    };
  }

  abstract get closed(): boolean;
  /** Drops the connection at once. */
  abstract close(): void;
  /** Sends one command; error replies are returned, only a lost connection throws. */
  protected abstract command(line: string): Promise<Reply>;

  /** Sends commands whose order alone matters (no reply decides the next); one reply each. */
  protected async commands(lines: string[]): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (const line of lines) replies.push(await this.command(line));
    return replies;
  }
  /** Opens the passive data connection (before REST, which must directly precede STOR). */
  protected abstract openData(): Promise<void>;
  /** Drops a data connection opened for a transfer that will not happen. */
  protected abstract abandonData(): void;
  /**
   * Sends STOR/APPE, streams `localPath` from `start` over the open data
   * connection, waits for the final reply. Throws FTPError for a refused
   * command (nothing sent) or TransferFailed.
   */
  protected abstract transfer(
    verb: "STOR" | "APPE",
    remotePath: string,
    localPath: string,
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

  /** Sends a command that must succeed (reply < 400). */
  protected async expect(line: string): Promise<Reply> {
    const reply = await this.command(line);
    if (reply.code >= 400) throw new FTPError(reply);
    return reply;
  }

  /**
   * Creates a folder; a folder that is already there counts as success.
   * Returns true when this call created it (so it is empty).
   */
  async mkdir(dir: string): Promise<boolean> {
    const reply = await this.command(`MKD ${dir}`);
    if (reply.code < 400) return true;
    // 550 is also what servers say for "exists": check before failing.
    if (await this.isDir(dir)) return false;
    throw new FTPError(reply);
  }

  async isDir(dir: string): Promise<boolean> {
    const reply = await this.command(`CWD ${dir}`);
    return reply.code >= 200 && reply.code < 300;
  }

  /** SIZE of a remote file; `undefined` when the server says it is not there (5xx). */
  async size(path: string): Promise<number | undefined> {
    return sizeFrom(await this.command(`SIZE ${path}`));
  }

  /**
   * Sends `localPath` from `offset` to `remotePath`. With offset 0 it is a
   * plain STOR. Otherwise `method` says how to continue; a server that
   * refuses it makes this throw `ResumeRefused` so the caller can pick the
   * next method (the choice is remembered in `abilities`).
   */
  async upload(
    localPath: string,
    remotePath: string,
    offset: number,
    method: ResumeMethod,
    size: number,
  ): Promise<UploadOutcome> {
    const start = method === "restart" ? 0 : offset;
    const verb = start > 0 && method === "appe" ? "APPE" : "STOR";
    // Passive data connection first: REST must be the last command before STOR (RFC 3659).
    await this.openData();
    if (start > 0 && method === "rest") {
      const reply = await this.command(`REST ${start}`);
      if (reply.code !== 350) {
        this.abilities.restStore = false;
        this.abandonData();
        throw new ResumeRefused("rest", `${reply.code} ${reply.message}`);
      }
      this.abilities.restStore = true;
    }
    let sent: Sent;
    try {
      sent = await this.transfer(verb, remotePath, localPath, start);
    } catch (e) {
      if (e instanceof FTPError) {
        // Refused before any data moved.
        if (verb === "APPE" && [500, 502, 504].includes(e.code)) {
          this.abilities.append = false;
          throw new ResumeRefused("appe", e.message);
        }
        // ProFTPD-style servers take REST (350) and then refuse the STOR.
        if (verb === "STOR" && start > 0 && e.code >= 500) {
          this.abilities.restStore = false;
          throw new ResumeRefused("rest", e.message);
        }
        throw new PartialUploadError(e, 0, start);
      }
      if (e instanceof TransferFailed) {
        throw new PartialUploadError(e.cause, e.bytesSent, start);
      }
      throw new PartialUploadError(e, 0, start);
    }
    if (verb === "APPE") this.abilities.append = true;
    // Reading more or less than the run saw at the start means the file changed meanwhile.
    if (sent.read !== size - start) {
      throw new LocalFileError(
        `local file changed during the run (read ${sent.read} bytes from offset ${start}, ` +
          `expected ${size - start}); run again to upload the new content`,
      );
    }
    return {
      offset: start,
      method: start === 0 ? "stor" : method,
      bytesSent: sent.written,
      ...(sent.sizeAfter ? { sizeAfter: { size: sizeFrom(sent.sizeAfter) } } : {}),
    };
  }

  /** RNFR/RNTO; where the server will not overwrite, the target is deleted and the rename tried again. */
  async rename(from: string, to: string): Promise<void> {
    // Safe to send together: a refused RNFR makes the RNTO fail too.
    let [rnfr, rnto] = await this.commands([`RNFR ${from}`, `RNTO ${to}`]);
    if (rnfr.code >= 400) throw new FTPError(rnfr);
    if (rnto.code >= 400) {
      await this.command(`DELE ${to}`);
      [rnfr, rnto] = await this.commands([`RNFR ${from}`, `RNTO ${to}`]);
      if (rnfr.code >= 400) throw new FTPError(rnfr);
      if (rnto.code >= 400) throw new FTPError(rnto);
    }
  }

  async remove(path: string): Promise<void> {
    await this.command(`DELE ${path}`);
  }

  /** The server's hash of a file with the command FEAT offered, lower-case hex, or undefined. */
  async hash(path: string): Promise<string | undefined> {
    const cmd = this.abilities.hash;
    if (!cmd) return undefined;
    const reply = await this.command(`${cmd} ${path}`);
    if (reply.code >= 400) return undefined;
    return reply.message.match(/\b([0-9a-fA-F]{8,128})\b/)?.[1].toLowerCase();
  }
}
