/**
 * Server text made safe to show, and only server text: a server may echo the
 * password or send terminal escape sequences in any reply.
 *
 * - {@linkcode safeText} escapes control characters; given the password, it
 *   also replaces it. Every line that reaches stderr, a report or an NDJSON
 *   line is escaped; the password is replaced only in what the server said:
 *   an error from the FTP layer ({@linkcode errorText}), the login's reply
 *   ({@linkcode withoutPassword}), a report's `error`/`reason` field, a note.
 * - The tool's own paths and words are never searched for the password: a
 *   password `ftp` once turned `/srv/ftpsite/` into `/srv/***site/`, and
 *   whoever can name a source file could have tested password guesses by
 *   reading the logs.
 *
 * @example
 * ```ts
 * import { safeText } from "./server_text.ts";
 * safeText("530 bad pass hunter2\x1b[2J", ["hunter2"]); // "530 bad pass ***\\x1b[2J"
 * ```
 *
 * @module
 */

import {
  ConnectionLost,
  FTPError,
  PartialUploadError,
  ProtocolError,
  ResumeRefused,
  TransferFailed,
} from "./errors.ts";

/** Put where the password was. */
export const REDACTED = "***";

/**
 * Replaces each secret (non-empty) with `***` and escapes C0/C1 control
 * characters and DEL as `\xNN` (tab, CR and LF too: one line stays one line).
 * Give `secrets` only for text that came from the server.
 */
export function safeText(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const s of secrets) out = redact(out, s);
  return out.replace(
    // deno-lint-ignore no-control-regex
    /[\x00-\x1f\x7f-\x9f]/g,
    (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`,
  );
}

/**
 * An error as one line, safe to show: the password replaced where the message
 * carries server text (the FTP layer's errors), left alone in local errors
 * (a file that cannot be read names its path, which is the tool's own text).
 */
export function errorText(e: unknown, secrets: readonly (string | undefined)[]): string {
  const text = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").trim();
  return safeText(text, carriesServerText(e) ? secrets : []);
}

/** Whether an error's message may quote the server (the FTP layer's errors, not local ones). */
export function carriesServerText(e: unknown): boolean {
  if (e instanceof PartialUploadError || e instanceof TransferFailed) {
    return e.cause === undefined || carriesServerText(e.cause);
  }
  return e instanceof FTPError || e instanceof ProtocolError || e instanceof ConnectionLost ||
    e instanceof ResumeRefused;
}

/** `text` with every occurrence of a non-empty `password` replaced by `***`. */
export function redact(text: string, password: string | undefined): string {
  return password ? text.split(password).join(REDACTED) : text;
}

/**
 * The error a login ended with, its message without the password (the
 * server may have echoed it). The error is changed in place and returned,
 * so its class (FTPError, ConnectionLost...) still decides what happens next.
 */
export function withoutPassword<E>(e: E, password: string | undefined): E {
  if (e instanceof Error && password && e.message.includes(password)) {
    e.message = redact(e.message, password);
  }
  return e;
}
