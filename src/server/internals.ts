/**
 * The parts of ftp-srv's (untyped) internals the embedded server uses, and
 * the local path behind a client path.
 *
 * @module
 */
import type { Server, Socket } from "node:net";
import type { ResumableFileSystem } from "./resumable_fs.ts";

export interface Connector {
  dataSocket: Socket | null;
  dataServer: Server | null;
  waitForConnection(): Promise<Socket>;
  end(): void;
}
export interface Connection {
  commandSocket: Socket;
  connector: Connector;
  authenticated?: boolean;
  fs?: ResumableFileSystem;
  restByteCount: number | undefined;
  /** Node encoding of command lines and replies (`utf8`; `latin1` = bytes as they are). */
  encoding: string;
  commands: { handle(command: string | object): Promise<unknown> };
  reply(code: number, ...letters: unknown[]): Promise<unknown>;
}

/** The file on disk behind `path` (ftp-srv's sandboxing: ".." cannot leave the root). */
export function fsPathOf(conn: Connection, path: string): string {
  return (conn.fs as unknown as { _resolvePath(p: string): { fsPath: string } })
    ._resolvePath(path).fsPath;
}
