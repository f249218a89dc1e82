/**
 * The one place that decides what an error means for an upload: try the
 * same connection again, reconnect, shrink the connection count, or give up
 * on the file. Also the backoff schedule. Pure: no I/O.
 *
 * @example
 * ```ts
 * import { classifyError, backoffDelay } from "./retry.ts";
 * classifyError({ code: 421, message: "421 Too many connections" }); // "tooMany"
 * backoffDelay(3, 1000, 30000, () => 0.5); // 3000 (ceiling 4000, half of it jittered)
 * ```
 *
 * @module
 */

/**
 * - `retry`: a transient reply; the connection is still good.
 * - `reconnect`: the connection is gone or unusable (basic-ftp closes its
 *   client on every non-FTP error); log in again, then resume.
 * - `tooMany`: the server wants fewer connections from us.
 * - `fatal`: retrying the same thing cannot help (permission denied, bad name, local file gone).
 */
export type ErrorAction = "retry" | "reconnect" | "tooMany" | "fatal";

/** The parts of an error this decision looks at: basic-ftp's FTPError has `code`. */
export interface ErrorLike {
  code?: number | string;
  message?: string;
  name?: string;
}

const TOO_MANY = /too many|no more connections|try (again )?later|overloaded/i;
// lftp's Transient5XX: 5xx replies that describe a passing network problem.
const TRANSIENT_TEXT =
  /broken pipe|timed? ?out|closed by the remote host|connection (reset|closed|aborted)|temporar/i;

/** Decides what to do about an error from a session call. */
export function classifyError(err: ErrorLike): ErrorAction {
  const message = err.message ?? "";
  const code = typeof err.code === "number" ? err.code : undefined;
  if (code !== undefined && code >= 100 && code < 600) {
    if ((code === 421 || code === 530) && TOO_MANY.test(message)) {
      return "tooMany";
    }
    if (code === 421) return "reconnect";
    if (code === 530) return "fatal";
    if (code >= 400 && code < 500) return "retry";
    if (TRANSIENT_TEXT.test(message) || TOO_MANY.test(message)) return "retry";
    return "fatal";
  }
  if (err.name === "LocalFileError" || err.name === "ProtocolError") return "fatal";
  // Anything else is a socket-level failure: timeout, FIN, reset, closed client.
  return "reconnect";
}

/**
 * Delay before attempt `attempt` (1 = first retry): base doubling up to max,
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

export { LocalFileError } from "../ftp/errors.ts";
