/**
 * Renames sent ahead: in atomic mode a file proven by SIZE is not renamed
 * on its own round trip; its RNFR+RNTO go out in front of the next file's
 * first command (`Session.renameWithNext`) and their replies are read before
 * that command's. A file waiting so is a *pending rename* here until the replies come.
 * A rename that is refused, out of step or lost with the connection is not
 * an error of the next file: the file is tried again on its own
 * through the ordinary path (its temporary file is complete, so that is a
 * SIZE and a rename).
 *
 * @module
 */

import { Code, isCompletion, isNegative } from "../ftp/codes.ts";
import type { Reply } from "../ftp/reply.ts";
import { safeText } from "../ftp/server_text.ts";
import type { JobResult, UploadJob } from "./job.ts";

/** How the replies to an RNFR+RNTO sent ahead came out. */
export type RenameOutcome =
  | { kind: "renamed" }
  /**
   * Refused (negative reply) or, `lost`, gone with the connection before the replies came
   * (the server may have renamed): retry the file on its own.
   */
  | { kind: "retry"; error: string; lost?: true }
  /** Replies that fit no rename: the session is out of step and must be closed. */
  | { kind: "outOfStep"; error: string };

/** A verified file whose rename goes out in front of a later command. */
export class PendingRename {
  outcome?: RenameOutcome;
  readonly settled: Promise<void>;

  /** The reply to the command sent before the rename (setting the time), if one did. */
  before?: Reply;

  constructor(
    readonly job: UploadJob,
    replies: Promise<Reply[]>,
    /** Whether a command went before RNFR+RNTO (its reply comes first). */
    withBefore: boolean,
    /** The `uploaded` result, stamped when the rename is confirmed (`before`'s reply). */
    readonly uploaded: (before?: Reply) => Promise<JobResult>,
    /** The job with its progress so far, to be tried again on its own. */
    readonly again: UploadJob,
    secrets: readonly (string | undefined)[],
  ) {
    this.settled = replies.then(
      (r) => {
        if (withBefore) this.before = r.shift();
        const outcome = renameOutcome(r);
        // The refusal quotes the server: its words may echo the password.
        if (outcome.kind !== "renamed") outcome.error = safeText(outcome.error, secrets);
        this.outcome = outcome;
      },
      (e: unknown) => {
        const text = e instanceof Error ? e.message : String(e);
        this.outcome = { kind: "retry", error: safeText(text, secrets), lost: true };
      },
    );
  }
}

/** RNFR must be answered 350 and RNTO 2xx; a negative reply is a refusal, anything else a surprise. */
export function renameOutcome([rnfr, rnto]: Reply[]): RenameOutcome {
  if (rnfr.code === Code.PendingFurtherInfo && isCompletion(rnto.code)) return { kind: "renamed" };
  const bad = rnfr.code === Code.PendingFurtherInfo ? rnto : rnfr;
  const error = `rename refused: ${bad.message}`;
  if (isNegative(bad.code)) return { kind: "retry", error };
  return { kind: "outOfStep", error: `rename replies out of step: ${bad.message}` };
}
