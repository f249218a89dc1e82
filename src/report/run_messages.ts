/**
 * The texts a run shows besides the report's numbers and the progress line
 * (`src/report/progress_line.ts`): the "could not connect, retrying" notice
 * on stderr, and the reason given to files the run could not send when it
 * lost every worker.
 *
 * @module
 */

import { Failure } from "../upload/job.ts";

/** Said at once when the first login failed and will be tried again. */
export function connectRetryLine(
  r: { error: string; attempt: number; of: number; pauseMs: number },
): string {
  const next = (r.pauseMs / 1000).toFixed(1);
  return `could not connect: ${r.error}; retrying (attempt ${r.attempt} of ${r.of}, next in ${next} s)`;
}

/** Why files were not sent, and which kind of failure that is. */
export interface Unsent {
  reason: string;
  failure: Failure;
}

/** Why the files still queued fail when no worker is left. */
export function unsentReason(
  r: { connected: boolean; connectError?: string; crash?: string; interrupted: boolean },
): Unsent {
  if (!r.connected) {
    // The server's words are said once, by the run's own "could not connect" line.
    const reason = r.connectError !== undefined || !r.crash
      ? "not sent: could not connect or log in"
      : `upload worker failed: ${r.crash}`;
    return { reason, failure: Failure.NotSent };
  }
  if (r.interrupted) return { reason: "interrupted", failure: Failure.Interrupted };
  const reason = `no connection left${r.crash ? ` (worker failed: ${r.crash})` : ""}`;
  return { reason, failure: Failure.NotSent };
}
