/**
 * The run report: one JSON document a scheduler can keep, a short human
 * summary, and the exit code. Pure: the coordinator collects, this shapes.
 *
 * @example
 * ```ts
 * import { exitCodeFor } from "./report.ts";
 * exitCodeFor({ totals: { missing: 0, failed: 1 } } as never); // 1
 * ```
 *
 * @module
 */

import type { FileStatus, Secure } from "../config/types.ts";

export interface ReportFile {
  source: string;
  destination: string;
  status: FileStatus;
  size: number;
  bytesSent: number;
  attempts: number;
  resumedFrom: number[];
  /** Worker that finished it (1-based); 0 when no worker touched it. */
  worker: number;
  durationMs: number;
  /** For an uploaded file: the check that proved it (`hash` only where the server offered one). */
  verified?: "size" | "hash";
  error?: string;
}

export interface Totals {
  files: number;
  uploaded: number;
  skipped: number;
  missing: number;
  failed: number;
  /** Bytes of the files now complete on the server. */
  bytes: number;
  /** Bytes put on the wire, retries and resumes included. */
  bytesSent: number;
  reconnects: number;
}

export interface Report {
  version: 1;
  startedAt: string;
  finishedAt: string;
  durationMs: number;
  /** Never the password. */
  server: { host: string; port: number; user: string; secure: Secure };
  workers: number;
  dryRun: boolean;
  /** Set when a signal ended the run early. */
  interrupted?: "SIGINT" | "SIGTERM";
  totals: Totals;
  files: ReportFile[];
}

/** Exit codes a scheduler can act on. */
export const EXIT = {
  ok: 0,
  someFailed: 1,
  usage: 2,
  connect: 3,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

export interface ReportInput {
  startedAt: Date;
  finishedAt: Date;
  server: Report["server"];
  workers: number;
  dryRun?: boolean;
  interrupted?: "SIGINT" | "SIGTERM";
  reconnects: number;
  /** In config order. */
  files: ReportFile[];
}

export function buildReport(input: ReportInput): Report {
  const totals: Totals = {
    files: input.files.length,
    uploaded: 0,
    skipped: 0,
    missing: 0,
    failed: 0,
    bytes: 0,
    bytesSent: 0,
    reconnects: input.reconnects,
  };
  for (const f of input.files) {
    totals[f.status]++;
    if (f.status === "uploaded") totals.bytes += f.size;
    totals.bytesSent += f.bytesSent;
  }
  return {
    version: 1,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
    server: input.server,
    workers: input.workers,
    dryRun: input.dryRun ?? false,
    ...(input.interrupted ? { interrupted: input.interrupted } : {}),
    totals,
    files: input.files,
  };
}

/**
 * The report as JSON text in pieces: the header indented, then one compact
 * line per file, so a 100,000-file report is written without building one
 * giant string (peak memory) and still reads line by line.
 */
export function* reportJson(report: Report, filesPerChunk = 1000): Generator<string> {
  const { files, ...head } = report;
  const header = JSON.stringify({ ...head, files: [] }, null, 2);
  // The header ends with `"files": []\n}`: open the array there.
  yield header.slice(0, header.lastIndexOf("[")) + "[";
  for (let i = 0; i < files.length; i += filesPerChunk) {
    const lines = files.slice(i, i + filesPerChunk).map((f) => JSON.stringify(f));
    yield (i === 0 ? "\n    " : ",\n    ") + lines.join(",\n    ");
  }
  yield files.length > 0 ? "\n  ]\n}\n" : "]\n}\n";
}

/** 0 all uploaded or skipped; 1 any missing or failed; 130/143 interrupted. */
export function exitCodeFor(report: Pick<Report, "totals" | "interrupted">): number {
  if (report.interrupted) return EXIT[report.interrupted];
  return report.totals.missing + report.totals.failed > 0 ? EXIT.someFailed : EXIT.ok;
}

/** A few lines for people: counts, bytes, rate, and every problem with its reason. */
export function summarize(report: Report, maxProblems = 50): string {
  const t = report.totals;
  const secs = Math.max(report.durationMs, 1) / 1000;
  const lines = [
    `${
      report.dryRun ? "dry run: " : ""
    }${t.files} files: ${t.uploaded} uploaded, ${t.skipped} skipped, ${t.missing} missing, ${t.failed} failed`,
    `${formatBytes(t.bytes)} in ${secs.toFixed(2)} s (${
      formatBytes(t.bytes / secs)
    }/s) over ${report.workers} connection${
      report.workers === 1 ? "" : "s"
    }, ${t.reconnects} reconnect${t.reconnects === 1 ? "" : "s"}`,
  ];
  if (report.interrupted) lines.push(`interrupted by ${report.interrupted}`);
  const problems = report.files.filter((f) => f.status === "missing" || f.status === "failed");
  for (const f of problems.slice(0, maxProblems)) {
    lines.push(`  ${f.status}: ${f.source} -> ${f.destination}: ${f.error ?? ""}`);
  }
  if (problems.length > maxProblems) {
    lines.push(`  … and ${problems.length - maxProblems} more in the report`);
  }
  return lines.join("\n");
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
