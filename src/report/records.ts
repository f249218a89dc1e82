/**
 * One file's record in the report, from what the run learned of it: the
 * local check (`CheckedSource`), the worker's result if one came, the skip
 * reason if the server already had it, and how the run ended.
 *
 * @module
 */

import type { CheckedSource } from "../plan/plan.ts";
import type { JobResult } from "../upload/job.ts";
import type { ReportFile } from "./report.ts";

/** A job's result with the worker that finished it (0: none). */
export type WorkerResult = JobResult & { worker: number };

/** What else is known of a file when its record is made. */
export interface RecordFacts {
  /** The worker's result (sent, or failed unsent by the pool). */
  result?: WorkerResult;
  /** Already on the server: why it was not sent (`"unchanged: size+mtime"`). */
  skipReason?: string;
  dryRun?: boolean;
  /** The run was stopped before this file's turn. */
  interrupted?: boolean;
}

export function toReportFile(c: CheckedSource, facts: RecordFacts): ReportFile {
  const { source, destination } = c.entry;
  // Built field by field, not spread: one record per file of a million-file run.
  const unsent = (
    status: ReportFile["status"],
    size: number,
    more?: { error?: string; reason?: string },
  ): ReportFile => {
    const f: ReportFile = {
      source,
      destination,
      status,
      size,
      bytesSent: 0,
      attempts: 0,
      resumedFrom: [],
      worker: 0,
      durationMs: 0,
    };
    if (more?.error !== undefined) f.error = more.error;
    if (more?.reason !== undefined) f.reason = more.reason;
    return f;
  };
  if (!c.ok) return unsent("missing", 0, { error: `source ${c.reason}` });
  // A name the server's code page cannot represent (config validation found it): never sent.
  if (c.entry.unencodable) return unsent("failed", c.size, { error: c.entry.unencodable });
  // Already on the server: nothing sent, the reason kept.
  if (facts.skipReason !== undefined) {
    return unsent("skipped", c.size, { reason: facts.skipReason });
  }
  const r = facts.result;
  if (!r) {
    // A dry run sends nothing: its files are planned, which is not "skipped" (already there).
    if (facts.dryRun) return unsent("planned", c.size);
    return unsent("failed", c.size, {
      error: facts.interrupted ? "interrupted" : "not attempted",
    });
  }
  return {
    source,
    destination,
    status: r.status,
    size: c.size,
    bytesSent: r.bytesSent,
    attempts: r.attempts,
    resumedFrom: r.resumedFrom,
    worker: r.worker,
    durationMs: r.durationMs,
    ...(r.verified ? { verified: r.verified } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}
