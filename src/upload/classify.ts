/**
 * What an error means for an upload, decided once where it is met: try the
 * same connection again, reconnect (at once for an idle drop), an outage,
 * shrink the connection count, stop sending to a full server, or fatal
 * (retrying cannot help). `retry.ts` runs the loop on these answers.
 *
 * - Refused as one connection too many (421 or 530 saying so): shrink.
 * - Disk full or quota (452, 552): the file fails at once with the server's
 *   words, and the run sends no more files.
 * - Transport level (reset, timeout, 421, vsftpd's `500 OOPS:` after which it
 *   closes the connection): reconnect.
 * - Fatal at once: login refused (530), a permanent 5xx, a local file
 *   problem, a name FTP cannot carry (CR, LF, NUL), a greeting that is no FTP
 *   reply (an SSH banner), an unusable reply, an untrusted TLS certificate.
 *
 * @example
 * ```ts
 * import { classifyError } from "./classify.ts";
 * import { FTPError } from "../ftp/errors.ts";
 * classifyError(new FTPError({ code: 421, message: "421 Too many connections" })); // "tooMany"
 * classifyError(new FTPError({ code: 500, message: "500 OOPS: priv_sock_get_int" })); // "reconnect"
 * ```
 *
 * @module
 */

import {
  ConnectionLost,
  FTPError,
  LocalFileError,
  PartialUploadError,
  ProtocolError,
  ResumeRefused,
  TransferFailed,
} from "../ftp/errors.ts";
import { Code, isTransient } from "../ftp/codes.ts";
import type { ConnectFailure } from "./job.ts";
import { EncryptionRequired } from "../ftp/tls_required.ts";

/**
 * - `retry`: a transient reply; the connection is still good.
 * - `reconnect`: the connection is gone or unusable; log in again, then resume.
 * - `reconnectNow`: the server dropped an idle connection: reconnect without a pause.
 * - `unreachable`: a reconnect failed at the network level (the outage rule applies).
 * - `tooMany`: the server wants fewer connections from us.
 * - `full`: the server is out of space: fail this file, send no more.
 * - `fatal`: retrying the same thing cannot help.
 */
export type ErrorAction =
  | "retry"
  | "reconnect"
  | "reconnectNow"
  | "unreachable"
  | "tooMany"
  | "full"
  | "fatal";

/** Printed with a certificate failure: how to trust a private CA. */
export const CERT_HINT = "trust a private CA with DENO_CERT=/path/ca.pem";

/** Login failed; `kind` tells the run whether to retry, shrink or stop. */
export class ConnectError extends Error {
  constructor(readonly kind: ConnectFailure, message: string) {
    super(message);
    this.name = "ConnectError";
  }
}

/** The server's copy is wrong; `restart` when its bytes (not just its length) differ. */
export class VerifyError extends Error {
  constructor(message: string, readonly restart = false) {
    super(message);
    this.name = "VerifyError";
  }
}

// vsftpd: "421 There are too many connections from your internet address." ProFTPD: "530 Sorry,
// the maximum number of clients (2) from your host are already connected." pure-ftpd: "421 Too
// many connections". Others: "connection limit", "no more connections", "try again later".
const TOO_MANY =
  /too many|maximum number of (clients|connections|users)|connection limit|no more connections|try (again )?later|overloaded/i;
// lftp's Transient5XX: 5xx replies that describe a passing network problem.
const TRANSIENT_TEXT =
  /broken pipe|timed? ?out|closed by the remote host|connection (reset|closed|aborted)|temporar/i;
// Deno: "invalid peer certificate: UnknownIssuer"; Node's tls (basic-ftp): "self-signed
// certificate", "unable to verify the first certificate", codes like CERT_HAS_EXPIRED.
const CERTIFICATE =
  /certificate|UnknownIssuer|self[- ]signed|unable to verify|CERT_|ERR_TLS_CERT|NotValidForName/i;

// vsftpd writes "500 OOPS: <what>" from its die() path (a helper process died, a socket
// call failed: "priv_sock_get_int", "vsf_sysutil_recv_peek") and then exits: the session is
// gone, not the file. Seen 115 times in a 140,000-file upload; the next connection stores it.
const SESSION_DIED = /^(500 )?OOPS:/;
// OpenSSH and other SSH servers greet with "SSH-2.0-..." (RFC 4253 section 4.2).
const SSH_BANNER = /SSH-\d\.\d+-/;

/** Said when the port answers with an SSH banner. */
export const SSH_SERVER = "this is an SSH/SFTP server; ftpbatch speaks FTP/FTPS";

/** A path FTP cannot carry: commands end at CR LF, and NUL ends a C string on the server. */
export class UnsendableName extends LocalFileError {
  constructor(path: string) {
    super(`name contains CR, LF or NUL, which FTP cannot carry: ${JSON.stringify(path)}`);
    this.name = "UnsendableName";
  }
}

/** Throws UnsendableName for a path no FTP command can carry (so it is never retried). */
export function checkSendable(path: string): void {
  if (/[\r\n\0]/.test(path)) throw new UnsendableName(path);
}

/** Decides what to do about an error from a session or login. */
export function classifyError(err: unknown): ErrorAction {
  if (err instanceof ConnectError) {
    if (err.kind === "tooMany") return "tooMany";
    return err.kind === "unreachable" ? "unreachable" : "fatal";
  }
  if (err instanceof GaveUp) return "fatal";
  if (err instanceof VerifyError || err instanceof ResumeRefused) return "retry";
  if (err instanceof LocalFileError || err instanceof ProtocolError) return "fatal";
  if (err instanceof ConnectionLost) return err.idle ? "reconnectNow" : "reconnect";
  const code = replyCode(err);
  if (code !== undefined) return classifyReply(code, messageOf(err));
  if (isCertificateError(err)) return "fatal";
  // Anything else is a socket-level failure: timeout, FIN, reset, closed client.
  return "reconnect";
}

/** The server refused the TLS of a transfer's data connection (`522`): fatal, the uploader removes its temporary file. */
export function dataTlsRefused(e: unknown): boolean {
  return e instanceof PartialUploadError && e.code === 522;
}

/**
 * What an upload error means: the server closed the connection between commands (it
 * answered the rename sent ahead, then nothing of this file's STOR) is an idle drop,
 * however it was wrapped. No data may have gone out (early data to a STOR is an upload
 * under way).
 */
export function classifyUpload(e: unknown): ErrorAction {
  const idle = e instanceof PartialUploadError && e.cause instanceof ConnectionLost &&
    e.cause.idle && e.bytesSent === 0;
  return classifyError(idle ? e.cause : e);
}

/** What an FTP error reply means. */
function classifyReply(code: number, message: string): ErrorAction {
  if ((code === Code.ServiceNotAvailable || code === Code.NotLoggedIn) && TOO_MANY.test(message)) {
    return "tooMany";
  }
  if (code === Code.InsufficientStorage || code === Code.ExceededStorage) return "full";
  if (SESSION_DIED.test(message)) return "reconnect";
  if (code === Code.ServiceNotAvailable) return "reconnect";
  if (code === Code.NotLoggedIn) return "fatal";
  if (isTransient(code)) return "retry";
  return TRANSIENT_TEXT.test(message) ? "retry" : "fatal";
}

/** The FTP reply code an error carries (an error reply, or a transfer that ended in one). */
function replyCode(err: unknown): number | undefined {
  if (err instanceof FTPError) return err.code;
  if (err instanceof PartialUploadError) return err.code;
  if (err instanceof TransferFailed) return replyCode(err.cause);
  return undefined;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The TLS peer's certificate was not trusted (never a network problem: retrying cannot help). */
function isCertificateError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  return CERTIFICATE.test(err.message) || (typeof code === "string" && CERTIFICATE.test(code));
}

/**
 * Turns a failed login into the run's cases: `tooMany` (shrink), `auth`
 * (530/331 refused: fatal), `certificate` (fatal, with the hint), `notFtp`
 * (a greeting that is no FTP reply, such as an SSH banner: fatal), or
 * `unreachable` (retried).
 */
export function toConnectError(e: unknown, describe: (e: unknown) => string): ConnectError {
  if (e instanceof ConnectError) return e;
  const msg = describe(e);
  if (isCertificateError(e)) return new ConnectError("certificate", `${msg}; ${CERT_HINT}`);
  // Plain FTP refused for want of TLS (even as a 421): retrying cannot help.
  if (e instanceof EncryptionRequired) return new ConnectError("auth", msg);
  // An answer that is no FTP reply: another protocol listens there, and will on every try.
  if (e instanceof ProtocolError) {
    if (SSH_BANNER.test(e.message)) return new ConnectError("notFtp", `${SSH_SERVER} (${msg})`);
    return new ConnectError("notFtp", `not an FTP server: ${msg}`);
  }
  const action = classifyError(e);
  if (action === "tooMany") return new ConnectError("tooMany", msg);
  if (e instanceof FTPError && (e.code === Code.NotLoggedIn || e.code === Code.UsernameOk)) {
    return new ConnectError("auth", msg);
  }
  return new ConnectError("unreachable", msg);
}

/** The tries of an operation ran out: `last` is the error of the last try. */
export class GaveUp extends Error {
  constructor(readonly last: unknown, readonly tries: number, describe: (e: unknown) => string) {
    super(`gave up after ${tries} attempts: ${describe(last)}`);
    this.name = "GaveUp";
  }
}
