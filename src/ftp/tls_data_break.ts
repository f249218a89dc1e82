/**
 * A TLS data connection that broke, told apart for the FTPS transport: the
 * server's reply on the control connection says why (vsftpd `522 SSL
 * connection failed` once the handshake is done; `426`, `552` mid-transfer)
 * and is waited for briefly; an untrusted certificate and a local read error
 * are told at once.
 *
 * @module
 */

/** How long a broken data connection waits for the server's reply saying why. */
export const VERDICT_MS = 3_000;

/** The data connection closed under a stream (not a local read error). */
export function isPrematureClose(e: Error): boolean {
  return (e as { code?: unknown }).code === "ERR_STREAM_PREMATURE_CLOSE";
}

/** The data connection's certificate was not trusted: told as it is, not as the server's reply. */
export function isCertificateFailure(e: Error): boolean {
  const code = (e as { code?: unknown }).code;
  return /certificate|UnknownIssuer|self[- ]signed|unable to verify/i.test(e.message) ||
    (typeof code === "string" && /CERT/.test(code));
}
