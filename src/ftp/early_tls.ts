/**
 * FTPS: TLS on a STOR's data connection begun as soon as the connection is
 * made, not after the server's `150`. The ClientHello then waits in the
 * server's socket until the server starts TLS there, and the handshake rides
 * with the `150`: a round trip less per file.
 *
 * Whether a server allows it is learned per connection, never from its name
 * (`abilities.earlyTls`): while it is not known, the next data connection is
 * probed with nothing at stake. Its ClientHello goes out, then three `NOOP`
 * round trips pass, one after the other, before the STOR is sent, so the hello
 * has sat in the server's socket that long before any transfer command: a
 * server that drops such a connection has done so by then (the handshake fails), and that
 * data connection is abandoned before the STOR goes: a new `EPSV`, TLS after
 * the `150` as before, early TLS off for the run. Where the handshake is still
 * waiting (or done), the STOR goes on it; the transfer that ends with its
 * `226` turns early TLS on. Any later early handshake that fails turns it off
 * for the run: no byte of the file went out (the handshake comes before the
 * data), the session is closed (the server may wait for a data connection
 * that will not come) and the file goes again at once (`EarlyTlsRefused`,
 * no try spent).
 *
 * Server quirks, as seen on the test matrix (`tests/ftp/early_tls_real_test.ts`):
 * - vsftpd, pure-ftpd and ProFTPD start TLS on a data connection when the
 *   transfer command comes; a ClientHello that arrived before it waits in the
 *   socket, also one that came long before the STOR.
 * - pyftpdlib closes a data connection that has bytes to read before the
 *   transfer command (its `DTPHandler` is not reading yet), then answers the
 *   STOR with `150` and waits for a data connection that never comes. When
 *   the STOR is read first (the usual order over a real link: the hello goes
 *   a round trip after the connect), it works. The probe puts the hello three
 *   round trips ahead, so pyftpdlib refuses it there (with one round trip it
 *   passed now and then when pyftpdlib served several sessions at once; with
 *   two it was caught by the second in about one connection in ten); should it
 *   still pass by chance, the first early transfer that fails turns it off, at
 *   the cost of a reconnect.
 *
 * @module
 */

import type { ByteStream } from "./byte_stream.ts";
import { Code } from "./codes.ts";
import type { Control } from "./control.ts";

/** NOOP round trips the probe waits with the ClientHello in the server's socket (see above). */
const PROBE_ROUND_TRIPS = 3;

/** What a transfer asks of its data connection's TLS, and what the transport learned. */
export interface EarlyTlsRequest {
  /** `probe`: not known yet (NOOP round trips first); `on`: the server was seen to hold it. */
  mode: "probe" | "on";
  /** Set by the transport: how far the data connection got (TCP, then the TLS handshake). */
  phase?: "connected" | "secured";
  /** The data connection once connected (closing it cuts a handshake under way). */
  raw?: ByteStream;
  /**
   * Set by the transport: `held` (a transfer went through on a connection secured early) or
   * `refused` (the early handshake failed, or the probe saw the connection dropped).
   */
  outcome?: "held" | "refused";
}

/** `raw` secured by `secure` at once, the request's `phase` kept up to date. */
export function secureEarly(
  raw: Promise<ByteStream>,
  secure: (c: ByteStream) => Promise<ByteStream>,
  request: EarlyTlsRequest,
): Promise<ByteStream> {
  const secured = raw.then(async (c) => {
    request.phase = "connected";
    request.raw = c;
    const s = await secure(c);
    request.phase = "secured";
    return s;
  });
  secured.catch(() => {}); // seen by the transfer, or by the probe
  return secured;
}

/**
 * The probe: `NOOP` round trips while the ClientHello of `secured` is in the server's
 * socket. False when the data connection could not be made (the transfer meets that
 * failure as before), or its handshake already failed or the NOOP was not answered `200`:
 * early TLS is refused and the caller abandons this data connection.
 */
export async function probeHeld(
  control: Control,
  raw: Promise<ByteStream>,
  secured: Promise<ByteStream>,
  request: EarlyTlsRequest,
): Promise<boolean> {
  try {
    await raw;
  } catch {
    return true; // nothing learned: the transfer reports the failed connect
  }
  let failed = false;
  secured.catch(() => (failed = true));
  // One turn of the event loop: the ClientHello is written before the NOOP.
  await new Promise((r) => setTimeout(r, 0));
  // Round trips one after the other: a server with one event loop for all its sessions
  // (pyftpdlib) has looked at the data connection by then, even when busy.
  for (let i = 0; i < PROBE_ROUND_TRIPS; i++) {
    const reply = await control.send("NOOP");
    if (failed || reply.code !== Code.CommandOk) {
      request.outcome = "refused";
      return false;
    }
  }
  return !failed;
}
