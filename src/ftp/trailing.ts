/**
 * Commands that trail a STOR in its own write: the file's `SIZE` and the
 * next file's `EPSV` go out with the STOR instead of after its `226`, so
 * their replies come with the transfer's and a round trip per file is saved.
 * Whether a server allows it is learned per connection (`abilities.trailing`):
 * the first transfer carries a `NOOP` only (the probe); where its reply comes
 * after the transfer's final reply, later transfers carry `SIZE` (and `EPSV`).
 * Every transfer's replies are checked again; anything out of order turns
 * trailing off for the run and the commands go after the `226` as before.
 *
 * Server quirks, as seen on the test matrix (`tests/ftp/trailing_real_test.ts`):
 * - vsftpd reads no command while a transfer is open: the trailing commands
 *   are answered after its `226`, in order, whenever they arrive.
 * - pure-ftpd and ProFTPD answer the trailing commands after the `226` when
 *   they came in the STOR's own write (already in their input buffer). Bytes
 *   that arrive *during* the transfer are another matter: pure-ftpd answers
 *   one `500 Unknown command` per read and drops the commands; ProFTPD answers
 *   them at once (`SIZE`: `213 0`, the partial size, or `550` with
 *   `HiddenStores on`). So the commands go only in a write small enough to
 *   travel in one segment with the STOR (`TRAIL_WRITE_MAX`), and a reply that
 *   comes where the transfer's final one belongs ends the connection (out of
 *   step), never a file's verification.
 * - pyftpdlib answers commands during the transfer (the probe's `NOOP`: `200`
 *   before the `226`), and an `EPSV` then closes the transfer's data
 *   connection (the file stays empty and no `226` comes). The probe finds
 *   this with nothing at stake: trailing stays off there.
 *
 * A `SIZE` reply is used only when it came after the transfer's final reply
 * (the server looked at the file once the transfer was over), and the final
 * reply is known by its code (`226`/`250` or a refusal), never by position
 * alone: `SIZE` answers `213`/`5xx`, `EPSV` `229`, `NOOP` `200`.
 *
 * @module
 */

import { Code, isNegative } from "./codes.ts";
import type { Reply } from "./reply.ts";

/** The largest write (bytes, pipelined commands in front included) that takes trailing commands. */
export const TRAIL_WRITE_MAX = 1200;

/** What a transfer asks to trail its command, and what the transport learned from it. */
export interface TrailRequest {
  /** `probe`: a `NOOP` only (not known yet whether the server holds them); `size`: SIZE. */
  mode: "probe" | "size";
  /** Another file follows on this connection: its `EPSV` may trail too. */
  next: boolean;
  /**
   * Set by the transport: `held` (answered after the transfer, in order) or `refused`
   * (answered during it, or anything unexpected): trailing off from now on.
   */
  outcome?: "held" | "refused";
}

/** A reply that can be the final reply of a STOR after its `150`. */
function transferFinal(reply: Reply): boolean {
  if (reply.code === Code.ClosingData || reply.code === Code.FileActionOk) return true;
  // 500-502 answer a command line, not a transfer under way: a trailing command's.
  return isNegative(reply.code) && !UNKNOWN_COMMAND.has(reply.code);
}

const UNKNOWN_COMMAND: ReadonlySet<number> = new Set([
  Code.SyntaxError,
  Code.SyntaxErrorInArguments,
  Code.NotImplemented,
]);

/** The replies each trailing command may get. */
const FITS: Record<string, (r: Reply) => boolean> = {
  NOOP: (r) => r.code === Code.CommandOk || isNegative(r.code),
  SIZE: (r) => r.code === Code.FileStatus || isNegative(r.code),
  EPSV: (r) => r.code === Code.ExtendedPassiveMode || isNegative(r.code),
};

/** The trailing commands of one transfer and their replies, checked as they come. */
export class Trail {
  readonly lines: string[];
  readonly replies: Reply[] = [];

  constructor(readonly request: TrailRequest, remotePath: string, epsv: boolean) {
    this.lines = request.mode === "probe"
      ? ["NOOP"]
      : [`SIZE ${remotePath}`, ...(epsv && request.next ? ["EPSV"] : [])];
  }

  /** Replies still to read for the trailing commands. */
  get unread(): number {
    return this.lines.length - this.replies.length;
  }

  /**
   * A reply read where the transfer's final reply belongs (after its `150`): `final`, or
   * `early` (the probe's NOOP answered during the transfer: the final one is still to
   * come), or `outOfStep` (trailing is refused; the connection cannot be trusted).
   */
  atFinal(reply: Reply): "final" | "early" | "outOfStep" {
    if (transferFinal(reply)) return "final";
    this.request.outcome = "refused";
    if (this.request.mode === "probe" && this.replies.length === 0 && FITS.NOOP(reply)) {
      this.replies.push(reply);
      return "early";
    }
    return "outOfStep";
  }

  /**
   * The replies read after the final one (or after a refused STOR) fit the trailing
   * commands; false: out of step. `transferred`: the transfer ran (a `150` came).
   */
  settle(transferred: boolean): boolean {
    const fits = this.replies.every((r, i) => FITS[this.lines[i].split(" ")[0]](r));
    if (!fits) {
      this.request.outcome = "refused";
      return false;
    }
    if (transferred && this.request.outcome === undefined) {
      // The probe's NOOP refused after the transfer says nothing good either.
      const ok = this.request.mode === "size" || this.replies[0].code === Code.CommandOk;
      this.request.outcome = ok ? "held" : "refused";
    }
    return true;
  }

  /** The trailing SIZE's reply, once settled. */
  get size(): Reply | undefined {
    return this.request.mode === "size" ? this.replies[0] : undefined;
  }

  /** The trailing EPSV's reply, once settled (when one trailed). */
  get epsv(): Reply | undefined {
    return this.lines[1] === "EPSV" ? this.replies[1] : undefined;
  }
}

/** Bytes of `lines` as sent in UTF-8, each with its CRLF. */
export function writeBytes(lines: readonly string[]): number {
  let n = 0;
  for (const line of lines) {
    n += 2;
    for (let i = 0; i < line.length; i++) {
      const c = line.charCodeAt(i);
      n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3; // a surrogate pair counts 6 for 4: an upper bound
    }
  }
  return n;
}
