/**
 * Errors of the FTP layer. Each says what happened in terms the retry
 * policy (`src/upload/retry.ts`) can decide on: an error reply with its
 * code, a transfer cut with the bytes it had sent, a refused resume method,
 * a reply this client cannot use.
 *
 * @module
 */

/**
 * An FTP error reply (code >= 400). Own class, so the plain-FTP path never
 * loads basic-ftp; the FTPS transport converts basic-ftp's errors to it.
 */
export class FTPError extends Error {
  readonly code: number;
  // A structural reply (code, message): reply.ts imports this file, not the other way round.
  constructor(reply: { code: number; message: string }) {
    super(reply.message);
    this.name = "FTPError";
    this.code = reply.code;
  }
}

/**
 * The data connection or the transfer's final reply failed; carries what was
 * sent, and the underlying error as `cause` (an FTPError, ConnectionLost, ProtocolError...).
 */
export class PartialUploadError extends Error {
  /** The FTP reply code when the server ended the transfer with an error reply. */
  readonly code?: number;
  /** `offset`: where this attempt started in the file. */
  constructor(cause: unknown, readonly bytesSent: number, readonly offset: number) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "PartialUploadError";
    if (cause instanceof FTPError) this.code = cause.code;
  }
}

/**
 * The server refused a resume method before any data moved; the session's
 * `abilities` say which (`restStore`/`append` false), and the caller falls back
 * to the next method (REST, then APPE, then a full re-send).
 */
export class ResumeRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ResumeRefused";
  }
}

/**
 * A STOR's data connection whose TLS began before the `150` was refused (`early_tls.ts`):
 * no byte of the file went out, early TLS is off for the run (`abilities.earlyTls`), and
 * the file goes again at once, as a refused resume method does (no try spent).
 */
export class EarlyTlsRefused extends ResumeRefused {
  constructor(message: string) {
    super(`data connection TLS begun before the 150 was refused: ${message}`);
    this.name = "EarlyTlsRefused";
  }
}

/** The server answered in a way this client cannot use: retrying cannot help. */
export class ProtocolError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProtocolError";
  }
}

/** The local file does not match what the run expects (changed, gone, unreadable): never retried. */
export class LocalFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "LocalFileError";
  }
}

/** A transport's failure during STOR/APPE, with the bytes it had written. */
export class TransferFailed extends Error {
  constructor(override readonly cause: unknown, readonly bytesSent: number) {
    super(cause instanceof Error ? cause.message : String(cause));
    this.name = "TransferFailed";
  }
}

/**
 * The control connection is gone: closed by the server (also with a `421`
 * after login), reset, timed out, or closed by this client because the
 * replies got out of step with the commands. `idle`: it was found closed
 * before this command got any reply and nothing of an upload was under way,
 * the usual fate of a connection the server dropped between files; the retry
 * policy reconnects at once for it.
 */
export class ConnectionLost extends Error {
  constructor(message: string, readonly idle = false) {
    super(message);
    this.name = "ConnectionLost";
  }
}
