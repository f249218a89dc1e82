/**
 * The run's summary for people: a few lines of counts, bytes, rate and the
 * first problems, built from a report (`report.ts`) or a streamed summary.
 * Pure text; the CLI decides where it goes.
 *
 * @module
 */

import { safeText } from "../ftp/server_text.ts";
import type { Report, ReportSummary } from "./report.ts";

/** `1 connection`, `2 connections`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/** The summary's view of an in-memory report. */
export function summaryOf(report: Report, maxProblems = MAX_PROBLEMS): ReportSummary {
  const { files, ...rest } = report;
  const problems = files.filter((f) => f.status === "missing" || f.status === "failed");
  return {
    ...rest,
    problems: problems.slice(0, maxProblems),
    problemCount: problems.length,
    plannedBytes: files.reduce((n, f) => n + (f.status === "planned" ? f.size : 0), 0),
  };
}

/** Problems the summary lists one by one; the report has them all. */
export const MAX_PROBLEMS = 50;

/**
 * A few lines for people: counts, bytes, rate, and the problems with their
 * reasons (the first `MAX_PROBLEMS`, then "… and N more in the report").
 * The rate is bytes sent over the run's time: bytes of completed files would
 * count a resumed file's earlier part as sent now. Problem lines pass through
 * `safeText` with `secrets` (escape sequences, echoed password).
 */
export function summarize(
  input: Report | ReportSummary,
  { secrets = [], maxProblems = MAX_PROBLEMS }: {
    secrets?: readonly (string | undefined)[];
    maxProblems?: number;
  } = {},
): string {
  const report = "files" in input ? summaryOf(input, maxProblems) : input;
  const t = report.totals;
  const secs = Math.max(report.durationMs, 1) / 1000;
  const shard = report.shard ? `shard ${report.shard.index}/${report.shard.count}: ` : "";
  const lines = [
    report.plan
      ? `${shard}plan: ${t.planned} to send, ${t.skipped} unchanged (skipped), ${
        t.plannedDeletions ?? 0
      } to delete, ${t.missing} missing, ${t.failed} failed; nothing was changed on the server`
      : `${shard}${report.dryRun ? "dry run: " : ""}${
        plural(t.files, "file")
      }: ${t.uploaded} uploaded, ${t.skipped} skipped, ${
        report.dryRun ? `${t.planned} planned, ` : ""
      }${t.deleted ? `${t.deleted} deleted, ` : ""}${t.missing} missing, ${t.failed} failed`,
    // A dry run connects to nothing, a plan sends nothing: no rate, no connections to claim.
    report.dryRun || report.plan
      ? `${formatBytes(report.plannedBytes)} to send; nothing sent`
      : transferLine(report, secs),
  ];
  for (const note of report.notes ?? []) lines.push(`note: ${safeText(note, secrets)}`);
  if (report.interrupted) lines.push(`interrupted by ${report.interrupted}`);
  for (const f of report.problems.slice(0, maxProblems)) {
    // The password is looked for in the error only (server text), not in the paths.
    lines.push(
      `${safeText(`  ${f.status}: ${f.source} -> ${f.destination}`)}: ${
        safeText(f.error ?? "", secrets)
      }`,
    );
  }
  if (report.problemCount > maxProblems) {
    lines.push(`  … and ${report.problemCount - maxProblems} more in the report`);
  }
  return lines.join("\n");
}

/**
 * What went over the wire. A run with nothing to send says so, rather than
 * "0 B complete … over 4 connections": a re-run that found everything unchanged
 * is the usual nightly case, and it opened no upload connection.
 */
function transferLine(report: ReportSummary, secs: number): string {
  const t = report.totals;
  const time = `${secs.toFixed(2)} s`;
  if (t.bytesSent === 0 && t.uploaded === 0 && t.failed === 0 && !report.interrupted) {
    if (t.skipped > 0) {
      return `nothing to send: ${
        plural(t.skipped, "file")
      } unchanged on the server (checked in ${time})`;
    }
    if (t.files === t.missing) {
      return `nothing to send: ${t.files === 0 ? "no files" : "every source is missing"}`;
    }
  }
  return `${formatBytes(t.bytes)} complete, ${formatBytes(t.bytesSent)} sent in ${time} (${
    formatBytes(t.bytesSent / secs)
  }/s) over ${plural(report.workers, "connection")}, ${plural(t.reconnects, "reconnect")}`;
}

export function formatBytes(n: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${i === 0 ? Math.round(n) : n.toFixed(1)} ${units[i]}`;
}
