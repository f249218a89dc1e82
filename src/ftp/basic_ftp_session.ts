/**
 * The FTPS transport: npm basic-ftp, which does the TLS upgrade (AUTH TLS or
 * implicit) and TLS on the data connections. basic-ftp has no REST for
 * uploads, so the shared resume logic in `session.ts` drives its transfer
 * machinery directly: data connection, then `REST n`, then `STOR`.
 *
 * @module
 */

import { Client, FTPError as BasicFtpError } from "basic-ftp";
import { uploadFrom } from "basic-ftp/dist/transfer.js";
import { createReadStream } from "node:fs";
import type { FtpLogin } from "./login.ts";
import { FTPError, TransferFailed } from "./errors.ts";
import { parseFeatures, type Reply } from "./reply.ts";
import { type LocalSource, type Sent, Session } from "./session.ts";

/** Connect, TLS as configured, `OPTS UTF8 ON` (errors ignored), login, binary mode, FEAT. */
export async function openBasicFtpSession(
  server: FtpLogin,
  timeoutMs: number,
): Promise<BasicFtpSession> {
  const client = new Client(timeoutMs);
  client.ftp.encoding = "utf8";
  try {
    await ftpReplies(client.access({
      host: server.host,
      port: server.port,
      user: server.user ?? "anonymous",
      password: server.password ?? (server.user ? "" : "anonymous@"),
      secure: server.secure,
    }));
    const feat = await client.sendIgnoringError("FEAT");
    return new BasicFtpSession(client, parseFeatures(feat));
  } catch (e) {
    client.close();
    throw e;
  }
}

export class BasicFtpSession extends Session {
  constructor(readonly client: Client, features: Map<string, string>) {
    super(features);
  }

  get closed(): boolean {
    return this.client.closed;
  }

  close(): void {
    this.client.close();
  }

  protected command(line: string): Promise<Reply> {
    return this.client.sendIgnoringError(line);
  }

  protected async openData(): Promise<void> {
    await this.client.prepareTransfer(this.client.ftp);
  }

  protected abandonData(): void {
    this.client.ftp.dataSocket?.destroy();
    this.client.ftp.dataSocket = undefined;
  }

  protected async transfer(
    verb: "STOR" | "APPE",
    remotePath: string,
    local: LocalSource,
    start: number,
  ): Promise<Sent> {
    const ftp = this.client.ftp;
    const dataSocket = ftp.dataSocket;
    const source = createReadStream(local.path, { start });
    // Bytes handed to the data connection, not merely read from disk.
    const sent = () => dataSocket?.bytesWritten ?? source.bytesRead;
    this.inFlight = sent;
    source.once("error", (e: Error) => ftp.closeWithError(e));
    try {
      await uploadFrom(source, {
        ftp,
        tracker: (this.client as unknown as { _progressTracker: never })._progressTracker,
        command: verb,
        remotePath,
        type: "upload",
      });
      return { read: source.bytesRead, written: sent() };
    } catch (e) {
      // A refusal before any data moved stays an FTPError; anything later is a broken transfer.
      const err = asReplyError(e);
      if (err instanceof FTPError && sent() === 0) throw err;
      throw new TransferFailed(err, sent());
    } finally {
      source.destroy();
    }
  }
}

/** basic-ftp's error replies as this project's FTPError, so one classifier serves both transports. */
function asReplyError(e: unknown): unknown {
  return e instanceof BasicFtpError ? new FTPError({ code: e.code, message: e.message }) : e;
}

async function ftpReplies<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw asReplyError(e);
  }
}
