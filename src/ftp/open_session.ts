/**
 * Picks the transport for a server: Deno's own TCP for plain FTP (fast),
 * npm basic-ftp where TLS is asked for (FTPS).
 *
 * @module
 */

import { openNativeSession } from "./native_login.ts";
import type { FtpLogin } from "./login.ts";
import type { Session } from "./session.ts";
import { encryptionRequired } from "./tls_required.ts";

export type { FtpLogin };

export async function openSession(server: FtpLogin, timeoutMs: number): Promise<Session> {
  if (server.secure === false) {
    // A server that wants TLS says so at login: told as what to change (`tls_required.ts`).
    return await openNativeSession(server, timeoutMs).catch((e) => {
      throw encryptionRequired(e);
    });
  }
  // Loaded only for FTPS: it costs each worker start-up time otherwise.
  const { openBasicFtpSession } = await import("./basic_ftp_transport.ts");
  return await openBasicFtpSession(server, timeoutMs);
}
