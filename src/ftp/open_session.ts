/**
 * Picks the transport for a server: the native pipelined transport, on
 * Deno's own TCP for plain FTP and on node:tls for FTPS (`native_ftps.ts`);
 * npm basic-ftp for active-mode FTPS only.
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
  if (server.active) {
    // Active-mode FTPS stays on basic-ftp: its data connections come to a node:net listener
    // (`active_node.ts`); the native transport's active listener is Deno's, and node:tls
    // cannot start TLS over a Deno connection. Loaded only here.
    const { openBasicFtpSession } = await import("./basic_ftp_transport.ts");
    return await openBasicFtpSession(server, timeoutMs);
  }
  // node:tls, for its session resumption (`native_ftps.ts`); loaded only for FTPS: it costs
  // each worker start-up time otherwise.
  const { openFtpsControl } = await import("./native_ftps.ts");
  const opening = await openFtpsControl(
    server.host,
    server.port,
    server.secure === "implicit",
    timeoutMs,
  );
  return await openNativeSession(server, timeoutMs, opening);
}
