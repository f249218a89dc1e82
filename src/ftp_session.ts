/**
 * One FTP control connection with the few operations an upload needs:
 * login with UTF-8, MKD, SIZE, upload at an offset (REST+STOR, APPE or STOR),
 * rename and delete. Protocol state lives here; retry decisions do not
 * (see `retry.ts` and `workers/upload_worker.ts`).
 *
 * basic-ftp has no REST for uploads, so `upload` drives its transfer
 * machinery directly: passive data connection first, then `REST n` as the
 * last command before `STOR` (RFC 3659 §5.5, as lftp and WinSCP do).
 *
 * @module
 */

import { Client, FTPError } from "basic-ftp";
import { uploadFrom } from "basic-ftp/dist/transfer.js";
import { createReadStream } from "node:fs";
import type { WorkerServer } from "./messages.ts";

/** How a partial remote file is continued. */
export type ResumeMethod = "rest" | "appe" | "restart";

/** What the server can do, learned from FEAT and from its replies; kept per connection. */
export interface ServerAbilities {
  /** FEAT lists `REST STREAM`, or a REST was answered 350. `undefined` = not known yet. */
  restStore?: boolean;
  /** APPE worked or failed with a "not implemented" reply. */
  append?: boolean;
  /** Hash command offered in FEAT (HASH, XSHA256, XSHA1, XMD5, XCRC), if any. */
  hash?: string;
  features: Map<string, string>;
}

/** Result of one upload attempt that reached the end of the data. */
export interface UploadOutcome {
  /** The offset the server was asked to continue from (0 for a full upload). */
  offset: number;
  method: "stor" | ResumeMethod;
  /** Bytes read from the local file and written to the data connection. */
  bytesSent: number;
}

/** Thrown when the data connection ended with bytes still unsent (counts are known). */
export class PartialUploadError extends Error {
  /** The FTP reply code when the server ended the transfer with an error reply. */
  readonly code?: number;
  /** Where this attempt started in the file. */
  constructor(cause: unknown, readonly bytesSent: number, readonly offset: number) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "PartialUploadError";
    if (cause instanceof FTPError) this.code = cause.code;
  }
}

const HASH_COMMANDS = ["XSHA256", "XSHA1", "XMD5", "HASH", "XCRC"];

/** Opens a logged-in session: connect, TLS when asked, `OPTS UTF8 ON` (errors ignored), login, binary mode, FEAT. */
export async function openSession(
  server: WorkerServer,
  timeoutMs: number,
): Promise<FtpSession> {
  const client = new Client(timeoutMs);
  client.ftp.encoding = "utf8";
  try {
    await client.access({
      host: server.host,
      port: server.port,
      user: server.user ?? "anonymous",
      password: server.password ?? (server.user ? "" : "anonymous@"),
      secure: server.secure,
    });
    const features = await client.features();
    return new FtpSession(client, features);
  } catch (e) {
    client.close();
    throw e;
  }
}

/** A logged-in connection. Not safe for concurrent calls: one command at a time. */
export class FtpSession {
  readonly abilities: ServerAbilities;

  constructor(readonly client: Client, features: Map<string, string>) {
    const rest = features.get("REST");
    this.abilities = {
      features,
      restStore: rest?.toUpperCase() === "STREAM" ? true : undefined,
      hash: HASH_COMMANDS.find((c) => features.has(c)),
    };
  }

  get closed(): boolean {
    return this.client.closed;
  }

  close(): void {
    this.client.close();
  }

  /**
   * Creates a folder; a folder that is already there counts as success.
   * Returns true when this call created it.
   */
  async mkdir(dir: string): Promise<boolean> {
    try {
      await this.client.send(`MKD ${dir}`);
      return true;
    } catch (e) {
      if (!(e instanceof FTPError)) throw e;
      // 550 is also what servers say for "exists": check before failing.
      if (!(await this.isDir(dir))) throw e;
      return false;
    }
  }

  async isDir(dir: string): Promise<boolean> {
    const res = await this.client.sendIgnoringError(`CWD ${dir}`);
    return res.code >= 200 && res.code < 300;
  }

  /** SIZE of a remote file; `undefined` when the server says it is not there (5xx). */
  async size(path: string): Promise<number | undefined> {
    const res = await this.client.sendIgnoringError(`SIZE ${path}`);
    if (res.code >= 500) return undefined;
    if (res.code !== 213) {
      throw new FTPError({ code: res.code, message: res.message } as never);
    }
    const n = parseInt(res.message.slice(4), 10);
    if (Number.isNaN(n)) throw new Error(`Unreadable SIZE reply: ${res.message}`);
    return n;
  }

  /**
   * Sends `localPath` from `offset` to `remotePath`. With offset 0 it is a
   * plain STOR. Otherwise `method` says how to continue; a server that
   * refuses REST makes this throw `ResumeRefused` so the caller can pick the
   * next method (the choice is remembered in `abilities`).
   */
  async upload(
    localPath: string,
    remotePath: string,
    offset: number,
    method: ResumeMethod,
  ): Promise<UploadOutcome> {
    const ftp = this.client.ftp;
    const start = method === "restart" ? 0 : offset;
    const source = createReadStream(localPath, { start });
    let sourceError: Error | undefined;
    source.once("error", (e: Error) => {
      sourceError = e;
      ftp.closeWithError(e);
    });
    try {
      // Passive data connection first: REST must be the last command before STOR.
      await this.client.prepareTransfer(ftp);
      const dataSocket = ftp.dataSocket;
      // Bytes handed to the data connection, not merely read from disk.
      const sent = () => dataSocket?.bytesWritten ?? source.bytesRead;
      let command = "STOR";
      if (start > 0 && method === "rest") {
        const res = await this.client.sendIgnoringError(`REST ${start}`);
        if (res.code !== 350) {
          this.abilities.restStore = false;
          ftp.dataSocket?.destroy();
          ftp.dataSocket = undefined;
          throw new ResumeRefused("rest", `${res.code} ${res.message}`);
        }
        this.abilities.restStore = true;
      } else if (start > 0 && method === "appe") {
        command = "APPE";
      }
      try {
        await uploadFrom(source, {
          ftp,
          tracker: (this.client as unknown as { _progressTracker: never })
            ._progressTracker,
          command,
          remotePath,
          type: "upload",
        });
      } catch (e) {
        if (
          command === "APPE" && e instanceof FTPError &&
          [500, 502, 504].includes(e.code)
        ) {
          this.abilities.append = false;
          throw new ResumeRefused("appe", e.message);
        }
        // ProFTPD-style servers take REST (350) and then refuse the STOR.
        if (
          command === "STOR" && start > 0 && e instanceof FTPError &&
          e.code >= 500 && source.bytesRead === 0
        ) {
          this.abilities.restStore = false;
          throw new ResumeRefused("rest", e.message);
        }
        // A closed data connection also ends the file stream with "Premature close": that is
        // a network event, not a local one. A local file that really went bad is caught by the
        // next attempt's check of the file.
        throw new PartialUploadError(e instanceof FTPError ? e : sourceError ?? e, sent(), start);
      }
      if (command === "APPE") this.abilities.append = true;
      return {
        offset: start,
        method: start === 0 ? "stor" : method,
        bytesSent: sent(),
      };
    } finally {
      source.destroy();
    }
  }

  /** RNFR/RNTO; where the server will not overwrite, the target is deleted and the rename tried again. */
  async rename(from: string, to: string): Promise<void> {
    try {
      await this.client.rename(from, to);
    } catch (e) {
      if (!(e instanceof FTPError)) throw e;
      await this.client.sendIgnoringError(`DELE ${to}`);
      await this.client.rename(from, to);
    }
  }

  async remove(path: string): Promise<void> {
    await this.client.sendIgnoringError(`DELE ${path}`);
  }

  /** The server's hash of a file with the command FEAT offered, lower-case hex, or undefined. */
  async hash(path: string): Promise<string | undefined> {
    const cmd = this.abilities.hash;
    if (!cmd) return undefined;
    const res = await this.client.sendIgnoringError(`${cmd} ${path}`);
    if (res.code >= 400) return undefined;
    const m = res.message.match(/\b([0-9a-fA-F]{8,128})\b/);
    return m?.[1].toLowerCase();
  }
}

/** The server refused a resume method; the caller falls back to the next one. */
export class ResumeRefused extends Error {
  constructor(readonly method: "rest" | "appe", reply: string) {
    super(`server refused ${method.toUpperCase()}: ${reply}`);
    this.name = "ResumeRefused";
  }
}
