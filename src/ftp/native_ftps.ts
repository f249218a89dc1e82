/**
 * FTPS for the native pipelined transport: the control connection on
 * node:net, secured with `AUTH TLS` after the greeting (or from the first
 * byte, implicit FTPS), then `PBSZ 0` and `PROT P` after the login, in the
 * same write as the rest; data connections on node:net, secured after the
 * server's `150` (or as soon as connected, where the server was seen to hold
 * that: `early_tls.ts`), resuming the control connection's TLS session.
 *
 * Why node:tls and not `Deno.startTls`: in Deno 2.9.6 neither
 * `Deno.connectTls` nor `Deno.startTls` can resume a session (no session
 * option, and each connection gets a fresh session cache), and vsftpd
 * (`require_ssl_reuse=YES`, its default), proftpd (mod_tls defaults) and
 * FileZilla Server refuse a data connection that does not resume the
 * control connection's session. node:tls `connect({ socket, session })`
 * resumes it, when the trust store is the default one: with a `ca` option
 * (even one shared `secureContext`) the session is not resumed, so a private
 * CA is given with `DENO_CERT` (docs/ftps.md).
 *
 * Server quirks handled here:
 * - pyftpdlib drops a data connection that receives anything (a TLS
 *   ClientHello) before the transfer command: TLS starts after the `150`
 *   (`DataLink.secure`, called by the transport then), as lftp and Python's
 *   ftplib do, unless the connection's probe saw the server hold an early
 *   ClientHello (vsftpd, pure-ftpd, proftpd: `early_tls.ts`).
 * - proftpd accepts each TLS 1.3 ticket once, and Deno's node:tls offers
 *   the same one on every data connection: TLS 1.2 at most, whose session
 *   id every data connection may resume.
 * - Implicit FTPS: TLS over a node:net socket (`tls.connect({ socket })`),
 *   not `tls.connect(port)`, whose session the data connections of vsftpd
 *   (`implicit_ssl=YES`) fail to resume.
 *
 * @module
 */

import type { ConnectionOptions } from "node:tls";
import { Code, isNegative } from "./codes.ts";
import type { Control } from "./control.ts";
import type { ByteStream, DataLink } from "./byte_stream.ts";
import { FTPError } from "./errors.ts";
import { connectSocket, NodeStream } from "./node_stream.ts";

/** The control connection of an FTPS session, before the greeting is read. */
export interface FtpsControl {
  stream: ByteStream;
  /** The server's address as connected (data connections go there, never to a PASV host). */
  remoteHost: string;
  /** `AUTH TLS` and the upgrade (explicit FTPS); nothing for implicit FTPS. */
  afterGreeting(control: Control): Promise<void>;
  /** Sent first in the write after the login; each must be accepted. */
  afterLogin: string[];
  /** Data connections: node:net, TLS after the `150` with the control session. */
  data: DataLink;
}

/** Connects to `host`:`port`; TLS from the first byte when `implicit`. */
export async function openFtpsControl(
  host: string,
  port: number,
  implicit: boolean,
  timeoutMs: number,
): Promise<FtpsControl> {
  // TLS 1.2 at most (proftpd, see the module doc); the host names the session's identity,
  // which every data connection must present to resume it.
  const tlsOptions: ConnectionOptions = { host, maxVersion: "TLSv1.2" };
  const socket = await connectSocket(host, port, timeoutMs);
  const stream = new NodeStream(socket);
  const remoteHost = socket.remoteAddress ?? host;
  if (implicit) await stream.startTls(tlsOptions, timeoutMs);
  return {
    stream,
    remoteHost,
    async afterGreeting(control: Control) {
      if (implicit) return;
      const reply = await control.send("AUTH TLS");
      if (reply.code !== Code.AuthOk) throw new FTPError(reply);
      // The TLS error as it is: an untrusted certificate is told apart by its message.
      await stream.startTls(tlsOptions, control.timeoutMs);
    },
    afterLogin: ["PBSZ 0", "PROT P"],
    data: {
      async connect(dataHost: string, dataPort: number): Promise<ByteStream> {
        return new NodeStream(await connectSocket(dataHost, dataPort, timeoutMs));
      },
      async secure(raw: ByteStream): Promise<ByteStream> {
        const data = raw as NodeStream;
        await data.startTls({ ...tlsOptions, session: stream.session() }, timeoutMs);
        return data;
      },
    },
  };
}

/** The replies to `afterLogin`: each must be positive (`PROT P` refused: no protected data). */
export function checkAfterLogin(replies: { code: number; message: string }[]): void {
  for (const r of replies) if (isNegative(r.code)) throw new FTPError(r);
}
