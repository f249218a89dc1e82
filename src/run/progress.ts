/**
 * The lines a person watching a run reads on stderr while it goes: the
 * periodic progress line and the "could not connect, retrying" notice.
 *
 * @module
 */

import { formatBytes, plural } from "../report/report.ts";

/** Where the run stands; `connections` counts only the ones logged in. */
export function progressLine(p: {
  done: number;
  total: number;
  bytes: number;
  secs: number;
  connections: number;
  reconnects: number;
}): string {
  const rate = formatBytes(p.bytes / Math.max(p.secs, 0.001));
  return `progress: ${p.done}/${p.total} files, ${formatBytes(p.bytes)} (${rate}/s), ${
    plural(p.connections, "connection")
  }, ${plural(p.reconnects, "reconnect")}`;
}

/** Said at once when the first login failed and will be tried again. */
export function connectRetryLine(
  r: { error: string; attempt: number; of: number; pauseMs: number },
): string {
  const next = (r.pauseMs / 1000).toFixed(1);
  return `could not connect: ${r.error}; retrying (attempt ${r.attempt} of ${r.of}, next in ${next} s)`;
}
