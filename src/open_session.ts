/**
 * Picks the transport for a server: Deno's own TCP for plain FTP (fast),
 * npm basic-ftp where TLS is asked for (FTPS).
 *
 * @module
 */

import { openBasicFtpSession } from "./basic_ftp_session.ts";
import type { WorkerServer } from "./messages.ts";
import { openNativeSession } from "./native_session.ts";
import type { Session } from "./session.ts";

export function openSession(server: WorkerServer, timeoutMs: number): Promise<Session> {
  return server.secure === false
    ? openNativeSession(server, timeoutMs)
    : openBasicFtpSession(server, timeoutMs);
}
