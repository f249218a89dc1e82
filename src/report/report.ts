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

import type { Secure } from "../config/types.ts";
import { safeText } from "../ftp/server_text.ts";

/**
 * Final state of one file in the report: `skipped` is already on the server
 * (unchanged, see `reason`), `planned` would be sent (a dry run sends nothing),
 * `deleted` was removed from the server by a mirror deploy (`"action": "delete"`).
 */
export type FileStatus = "uploaded" | "skipped" | "planned" | "missing" | "failed" | "deleted";

export interface ReportFile {
  /** `null` for a deletion: a remote path with no local file. */
  source: string | null;
  destination: string;
  status: FileStatus;
  /** `"delete"`: a mirror deletion (`deleted`, or `planned` by `--plan`, or `failed`). */
  action?: "delete";
  size: number;
  bytesSent: number;
  attempts: number;
  resumedFrom: number[];
  /** Worker that finished it (1-based); 0 when no worker touched it. */
  worker: number;
  durationMs: number;
  /** Why a file was skipped (`"unchanged: size+mtime"`). */
  reason?: string;
  /** For an uploaded file: the check that proved it (`hash` only where the server offered one). */
  verified?: "size" | "hash";
  error?: string;
}

export interface Totals {
  files: number;
  uploaded: number;
  skipped: number;
  planned: number;
  missing: number;
  failed: number;
  /** Remote paths a mirror deploy deleted (`"delete": true`); present when the run mirrors. */
  deleted?: number;
  /** Deletions `--plan` would make (`planned` records not counted in `planned`); likewise. */
  plannedDeletions?: number;
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
  /** Never the password. `encoding` only for a legacy code page (`server.encoding`). */
  server: { host: string; port: number; user: string; secure: Secure; encoding?: string };
  workers: number;
  dryRun: boolean;
  /** `--plan`: connected and listed, changed nothing; `planned` is what a run would do. */
  plan?: true;
  /** Set when a signal ended the run early. */
  interrupted?: "SIGINT" | "SIGTERM";
  /** The exit code of the run that wrote this report (see `EXIT`). */
  exitCode: number;
  /** Set when the run took one shard of the config's files (`--shard K/N`). */
  shard?: ReportShard;
  /** Set on a report merged from shard reports (`report merge`). */
  merged?: MergedFrom;
  /** Things said once for the whole run (the server cannot set modification times). */
  notes?: string[];
  totals: Totals;
  /**
   * Folder entries only (`files[index]` whose source is a folder): the totals
   * of the files walked from each, the symlinks not followed and the empty
   * folders created.
   */
  entries?: ReportEntry[];
  files: ReportFile[];
}

/** Totals of one folder entry (see `Report.entries`). */
export interface ReportEntry extends Omit<Totals, "reconnects"> {
  /** Position in the config's `files`. */
  index: number;
  source: string;
  /** The remote folder. */
  destination: string;
  symlinks: number;
  emptyFolders: number;
}

/** Which shard a report covers. */
export interface ReportShard {
  index: number;
  count: number;
  /** `filesDigest` of the whole config's file list: equal in every shard of one config. */
  digest: string;
}

/** What a merged report was made of. */
export interface MergedFrom {
  count: number;
  digest: string;
  /** Each shard's own exit code and time span, by index. */
  shards: { index: number; exitCode: number; startedAt: string; finishedAt: string }[];
}

/** Exit codes a scheduler can act on. */
export const EXIT = {
  ok: 0,
  someFailed: 1,
  usage: 2,
  connect: 3,
  /** Another run holds the `--lock` file (or the `--remote-lock`); this one did not start. */
  locked: 4,
  /** Every file went well but the mirror deletions were refused (over the cap, an unreadable listing). */
  deletionsRefused: 5,
  SIGINT: 130,
  SIGTERM: 143,
} as const;

export interface ReportInput {
  startedAt: Date;
  finishedAt: Date;
  server: Report["server"];
  workers: number;
  dryRun?: boolean;
  plan?: boolean;
  interrupted?: "SIGINT" | "SIGTERM";
  reconnects: number;
  /** No connection could be made at all (exit 3 unless interrupted). */
  connectFailed?: boolean;
  shard?: ReportShard;
  entries?: ReportEntry[];
  notes?: string[];
  /** In config order. */
  files: ReportFile[];
}

export function buildReport(input: ReportInput): Report {
  const totals = totalsOf(input.files, input.reconnects);
  const interrupted = input.interrupted ? { interrupted: input.interrupted } : {};
  const exitCode = input.connectFailed && !input.interrupted
    ? EXIT.connect
    : exitCodeFor({ totals, ...interrupted });
  return {
    version: 1,
    startedAt: input.startedAt.toISOString(),
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
    server: input.server,
    workers: input.workers,
    dryRun: input.dryRun ?? false,
    ...(input.plan ? { plan: true as const } : {}),
    ...interrupted,
    exitCode,
    ...(input.shard ? { shard: input.shard } : {}),
    ...(input.notes?.length ? { notes: input.notes } : {}),
    totals,
    ...(input.entries?.length ? { entries: input.entries } : {}),
    files: input.files,
  };
}

/** Counts by status and bytes of `files` (also used to total merged shard reports). */
export function totalsOf(files: ReportFile[], reconnects: number): Totals {
  const totals: Totals = {
    files: files.length,
    uploaded: 0,
    skipped: 0,
    planned: 0,
    missing: 0,
    failed: 0,
    bytes: 0,
    bytesSent: 0,
    reconnects,
  };
  for (const f of files) {
    if (f.action === "delete") {
      totals.deleted ??= 0;
      totals.plannedDeletions ??= 0;
      if (f.status === "planned") totals.plannedDeletions++;
      else if (f.status === "deleted") totals.deleted++;
      else totals[f.status]++;
      continue;
    }
    totals[f.status as Exclude<FileStatus, "deleted">]++;
    if (f.status === "uploaded") totals.bytes += f.size;
    totals.bytesSent += f.bytesSent;
  }
  return totals;
}

/**
 * The report as JSON text in pieces: the header indented, then one compact
 * line per file, so a 100,000-file report is written without building one
 * giant string (peak memory) and still reads line by line. Each file's
 * `error` passes through `safeText` with `secrets` (the password): a last line
 * of defence against server text with escape sequences or an echoed password.
 */
export function* reportJson(
  report: Report,
  { secrets = [], filesPerChunk = 1000 }: {
    secrets?: readonly (string | undefined)[];
    filesPerChunk?: number;
  } = {},
): Generator<string> {
  const { files, ...head } = report;
  const header = JSON.stringify({ ...head, files: [] }, null, 2);
  // The header ends with `"files": []\n}`: open the array there.
  yield header.slice(0, header.lastIndexOf("[")) + "[";
  for (let i = 0; i < files.length; i += filesPerChunk) {
    const lines = files.slice(i, i + filesPerChunk).map((f) =>
      JSON.stringify(f.error === undefined ? f : { ...f, error: safeText(f.error, secrets) })
    );
    yield (i === 0 ? "\n    " : ",\n    ") + lines.join(",\n    ");
  }
  yield files.length > 0 ? "\n  ]\n}\n" : "]\n}\n";
}

/** 0 all uploaded, skipped or planned; 1 any missing or failed; 130/143 interrupted. */
export function exitCodeFor(report: Pick<Report, "totals" | "interrupted">): number {
  if (report.interrupted) return EXIT[report.interrupted];
  return report.totals.missing + report.totals.failed > 0 ? EXIT.someFailed : EXIT.ok;
}

/** `1 connection`, `2 connections`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

/**
 * A few lines for people: counts, bytes, rate, and every problem with its
 * reason. The rate is bytes sent over the run's time: bytes of completed
 * files would count a resumed file's earlier part as sent now. Problem lines
 * pass through `safeText` with `secrets` (escape sequences, echoed password).
 */
export function summarize(
  report: Report,
  { secrets = [], maxProblems = 50 }: {
    secrets?: readonly (string | undefined)[];
    maxProblems?: number;
  } = {},
): string {
  const t = report.totals;
  const secs = Math.max(report.durationMs, 1) / 1000;
  const shard = report.shard ? `shard ${report.shard.index}/${report.shard.count}: ` : "";
  const lines = [
    report.plan
      ? `${shard}plan: ${t.planned} to send, ${t.skipped} unchanged (skipped), ${
        t.plannedDeletions ?? 0
      } to delete, ${t.missing} missing, ${t.failed} failed; nothing was changed on the server`
      : `${shard}${
        report.dryRun ? "dry run: " : ""
      }${t.files} files: ${t.uploaded} uploaded, ${t.skipped} skipped, ${
        report.dryRun ? `${t.planned} planned, ` : ""
      }${t.deleted ? `${t.deleted} deleted, ` : ""}${t.missing} missing, ${t.failed} failed`,
    // A dry run connects to nothing: no rate, no connections to claim.
    report.dryRun
      ? `${
        formatBytes(report.files.reduce((n, f) => n + (f.status === "planned" ? f.size : 0), 0))
      } to send; nothing sent`
      : transferLine(report, secs),
  ];
  for (const note of report.notes ?? []) lines.push(`note: ${safeText(note, secrets)}`);
  if (report.interrupted) lines.push(`interrupted by ${report.interrupted}`);
  const problems = report.files.filter((f) => f.status === "missing" || f.status === "failed");
  for (const f of problems.slice(0, maxProblems)) {
    lines.push(
      safeText(`  ${f.status}: ${f.source} -> ${f.destination}: ${f.error ?? ""}`, secrets),
    );
  }
  if (problems.length > maxProblems) {
    lines.push(`  … and ${problems.length - maxProblems} more in the report`);
  }
  return lines.join("\n");
}

/**
 * What went over the wire. A run with nothing to send says so, rather than
 * "0 B complete … over 4 connections": a re-run that found everything unchanged
 * is the usual nightly case, and it opened no upload connection.
 */
function transferLine(report: Report, secs: number): string {
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
