/**
 * The one place that decides what an error means for an upload (try the
 * same connection again, reconnect, shrink the connection count, stop
 * sending to a full server, or give up on the file) and how long to wait
 * before the next try. Every retry loop uses it: the uploader's file and
 * folder loops, the worker's first connect, the pool's respawn after
 * "too many connections".
 *
 * The rules, in one place:
 * - A try that failed is counted against `retries` (the report's `attempts`),
 *   then a backoff pause (doubling, jittered) precedes the next try.
 * - An idle drop (`ConnectionLost` with `idle`: the server closed a connection
 *   that sat between files) reconnects at once, no pause, not counted; once
 *   per operation, so a server that keeps dropping still uses the budget.
 * - An outage is counted by time, not by tries: while reconnecting fails at
 *   the network level ("unreachable": refused, no answer), a file's tries are
 *   not spent for up to {@linkcode OUTAGE_WINDOW_MS} from the first such
 *   failure in a row (a server restarting); past that window each failure
 *   counts. The first connect of a worker is not covered: a wrong port or a
 *   dead host fails after `retries` tries.
 * - Refused as one connection too many (421 or 530 saying so): shrink.
 * - Disk full or quota (452, 552): the file fails at once with the server's
 *   words, and the run sends no more files.
 * - Fatal at once: login refused (530), a permanent 5xx, a local file
 *   problem, an unusable reply, an untrusted TLS certificate.
 *
 * @example
 * ```ts
 * import { backoffDelay, classifyError } from "./retry.ts";
 * import { FTPError } from "../ftp/errors.ts";
 * classifyError(new FTPError({ code: 421, message: "421 Too many connections" })); // "tooMany"
 * backoffDelay(3, 1000, 30000, () => 0.5); // 3000 (ceiling 4000, half of it jittered)
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

/** An outage this long (from its first failed reconnect) does not spend a file's tries. */
export const OUTAGE_WINDOW_MS = 60_000;

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

/** Decides what to do about an error from a session or login. */
export function classifyError(err: unknown): ErrorAction {
  if (err instanceof ConnectError) {
    if (err.kind === "tooMany") return "tooMany";
    return err.kind === "unreachable" ? "unreachable" : "fatal";
  }
  if (err instanceof VerifyError || err instanceof ResumeRefused) return "retry";
  if (err instanceof LocalFileError || err instanceof ProtocolError) return "fatal";
  if (err instanceof ConnectionLost) return err.idle ? "reconnectNow" : "reconnect";
  const code = replyCode(err);
  if (code !== undefined) return classifyReply(code, messageOf(err));
  if (isCertificateError(err)) return "fatal";
  // Anything else is a socket-level failure: timeout, FIN, reset, closed client.
  return "reconnect";
}

/** What an FTP error reply means. */
function classifyReply(code: number, message: string): ErrorAction {
  if ((code === Code.ServiceNotAvailable || code === Code.NotLoggedIn) && TOO_MANY.test(message)) {
    return "tooMany";
  }
  if (code === Code.InsufficientStorage || code === Code.ExceededStorage) return "full";
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

function messageOf(err: unknown): string {
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
 * (530/331 refused: fatal), `certificate` (fatal, with the hint), or
 * `unreachable` (retried).
 */
export function toConnectError(e: unknown, describe: (e: unknown) => string): ConnectError {
  if (e instanceof ConnectError) return e;
  const msg = describe(e);
  if (isCertificateError(e)) return new ConnectError("certificate", `${msg}; ${CERT_HINT}`);
  // Plain FTP refused for want of TLS (even as a 421): retrying cannot help.
  if (e instanceof EncryptionRequired) return new ConnectError("auth", msg);
  const action = classifyError(e);
  if (action === "tooMany") return new ConnectError("tooMany", msg);
  if (e instanceof FTPError && (e.code === Code.NotLoggedIn || e.code === Code.UsernameOk)) {
    return new ConnectError("auth", msg);
  }
  return new ConnectError("unreachable", msg);
}

/**
 * Delay before try `attempt` (1 = first retry): base doubling up to max,
 * with "equal jitter" so parallel workers do not reconnect in lockstep.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** How many retries and how long between them. */
export interface RetryTiming {
  retries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** Time since the first failed reconnect of the current outage; one per connection. */
export class OutageClock {
  #since?: number;
  #tries = 0;
  constructor(readonly windowMs = OUTAGE_WINDOW_MS, readonly now = () => performance.now()) {}

  /** A reconnect failed at the network level: the pause before the next, or undefined past the window. */
  failed(timing: RetryTiming): number | undefined {
    const now = this.now();
    this.#since ??= now;
    if (now - this.#since >= this.windowMs) return undefined;
    return backoffDelay(++this.#tries, timing.backoffBaseMs, timing.backoffMaxMs);
  }

  /** Connected again: the outage is over. */
  ended(): void {
    this.#since = undefined;
    this.#tries = 0;
  }
}

/**
 * The tries of one operation (one file, one folder list, one first connect).
 * `tries` counts the tries that count; `after` says what follows a failure.
 */
export class RetryBudget {
  #idleForgiven = false;
  constructor(
    readonly timing: RetryTiming,
    /** Absent for a first connect: there an unreachable server spends tries. */
    readonly outage?: OutageClock,
    public tries = 0,
  ) {}

  /** A try starts. */
  start(): void {
    this.tries++;
  }

  /** The try that just failed does not count (a refused resume method sent nothing). */
  refund(): void {
    this.tries--;
  }

  /**
   * After a failed try whose action is `retry`, `reconnect`, `reconnectNow` or
   * `unreachable`: the pause before the next try, or undefined to give up.
   */
  after(action: ErrorAction): number | undefined {
    if (action === "reconnectNow" && !this.#idleForgiven) {
      this.#idleForgiven = true;
      this.tries--;
      return 0;
    }
    if (action === "unreachable" && this.outage) {
      const pause = this.outage.failed(this.timing);
      if (pause !== undefined) {
        this.tries--;
        return pause;
      }
    }
    if (this.tries > this.timing.retries) return undefined;
    return backoffDelay(this.tries, this.timing.backoffBaseMs, this.timing.backoffMaxMs);
  }
}
