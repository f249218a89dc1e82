/**
 * Implicit FTPS for npm basic-ftp with data connections that can resume the
 * control connection's TLS session. basic-ftp opens an implicit control
 * connection with `tls.connect(port, host)`; in Deno 2.9.6 a session from such
 * a connection is not resumable by a `tls.connect({ socket })` data
 * connection, and vsftpd (`implicit_ssl=YES`, default `require_ssl_reuse=YES`)
 * refuses every data connection with `522 SSL connection failed: session
 * reuse required`. Here the control connection is made the way the explicit
 * one is: a TCP socket, then TLS over it.
 *
 * @module
 */

import type { Client, FTPResponse } from "basic-ftp";
import { connect as tcpConnect } from "node:net";
import { connect as tlsConnect } from "node:tls";

export /**
 * basic-ftp's `connectImplicitTLS` with TLS started over a plain TCP socket (see the module
 * doc: only such a session is resumed by the data connections). The socket is handed over
 * while still connecting, as basic-ftp does, so its timeout and error handling apply; an
 * untrusted certificate fails the handshake (`rejectUnauthorized` stays at its default).
 */
function connectImplicitByUpgrade(client: Client): void {
  client.connectImplicitTLS = function (host = "localhost", port = 21, tlsOptions = {}) {
    this.ftp.reset();
    tlsOptions.host ??= host;
    const raw = tcpConnect({ host, port, family: this.ftp.ipFamily });
    this.ftp.socket = tlsConnect({ ...tlsOptions, socket: raw });
    this.ftp.tlsOptions = tlsOptions;
    return (this as unknown as { _handleConnectResponse(): Promise<FTPResponse> })
      ._handleConnectResponse();
  };
}
