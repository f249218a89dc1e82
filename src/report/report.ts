/**
 * The run report: one JSON document a scheduler can keep, a short human
 * summary, and the exit code. Pure: the coordinator collects, this shapes.
 *
 * Version 2 lays the document out in the order a run learns it, so it can be
 * written while the run goes (`report_writer.ts`): the fields known at the
 * start (`ReportHead`), then `files` (in the order they were decided), then
 * the fields known at the end (`ReportTail`: totals, exit code). A JSON
 * parser sees the same fields as in version 1.
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

/** The fields a run knows at its start: written before `files`. */
export interface ReportHead {
  version: 2;
  startedAt: string;
  /** Never the password. `encoding` only for a legacy code page (`server.encoding`). */
  server: { host: string; port: number; user: string; secure: Secure; encoding?: string };
  dryRun: boolean;
  /** `--plan`: connected and listed, changed nothing; `planned` is what a run would do. */
  plan?: true;
  /** Set when the run took one shard of the config's files (`--shard K/N`). */
  shard?: ReportShard;
  /** Set on a report merged from shard reports (`report merge`). */
  merged?: MergedFrom;
}

/** The fields known only at the end: written after `files`. */
export interface ReportTail {
  finishedAt: string;
  durationMs: number;
  workers: number;
  /** Set when a signal ended the run early. */
  interrupted?: "SIGINT" | "SIGTERM";
  /** The exit code of the run that wrote this report (see `EXIT`). */
  exitCode: number;
  /** Things said once for the whole run (the server cannot set modification times). */
  notes?: string[];
  totals: Totals;
  /**
   * Folder entries only (`files[index]` whose source is a folder): the totals
   * of the files walked from each, the symlinks not followed and the empty
   * folders created.
   */
  entries?: ReportEntry[];
}

/** The whole report as a JSON parser sees it. */
export type Report = ReportHead & { files: ReportFile[] } & ReportTail;

/**
 * A report without its files, for the summary: the first problems (failed
 * or missing files) and how many there were in all, and the bytes planned.
 */
export type ReportSummary = ReportHead & ReportTail & {
  problems: ReportFile[];
  problemCount: number;
  plannedBytes: number;
};

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
  /**
   * `configDigest` of the whole effective config (server, options, every
   * entry's source, destination and filters): shards run under other
   * settings are not merged.
   */
  config: string;
}

/** What a merged report was made of. */
export interface MergedFrom {
  count: number;
  digest: string;
  config: string;
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
  /** Every file went well but the mirror deletions were refused (over the cap, an empty source). */
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
  return {
    ...reportHead(input),
    files: input.files,
    ...reportTail(input, totals, input.entries),
  };
}

/** The fields known at the start of a run. */
export function reportHead(
  input: Pick<ReportInput, "startedAt" | "server" | "dryRun" | "plan" | "shard">,
): ReportHead {
  return {
    version: 2,
    startedAt: input.startedAt.toISOString(),
    server: input.server,
    dryRun: input.dryRun ?? false,
    ...(input.plan ? { plan: true as const } : {}),
    ...(input.shard ? { shard: input.shard } : {}),
  };
}

/** The fields known at the end of a run, with its exit code. */
export function reportTail(
  input: Omit<ReportInput, "files" | "server" | "dryRun" | "plan" | "shard" | "entries">,
  totals: Totals,
  entries?: ReportEntry[],
): ReportTail {
  const interrupted = input.interrupted ? { interrupted: input.interrupted } : {};
  const exitCode = input.connectFailed && !input.interrupted
    ? EXIT.connect
    : exitCodeFor({ totals, ...interrupted });
  return {
    finishedAt: input.finishedAt.toISOString(),
    durationMs: input.finishedAt.getTime() - input.startedAt.getTime(),
    workers: input.workers,
    ...interrupted,
    exitCode,
    ...(input.notes?.length ? { notes: input.notes } : {}),
    totals,
    ...(entries?.length ? { entries } : {}),
  };
}

/** Counts by status and bytes of `files` (also used to total merged shard reports). */
export function totalsOf(files: ReportFile[], reconnects: number): Totals {
  const totals = emptyTotals(reconnects);
  for (const f of files) addToTotals(totals, f);
  return totals;
}

/** Totals of no file yet. */
export function emptyTotals(reconnects = 0): Totals {
  return {
    files: 0,
    uploaded: 0,
    skipped: 0,
    planned: 0,
    missing: 0,
    failed: 0,
    bytes: 0,
    bytesSent: 0,
    reconnects,
  };
}

/** Counts one more file into `totals` (or an entry's totals). */
export function addToTotals(totals: Omit<Totals, "reconnects">, f: ReportFile): void {
  totals.files++;
  if (f.action === "delete") {
    totals.deleted ??= 0;
    totals.plannedDeletions ??= 0;
    if (f.status === "planned") totals.plannedDeletions++;
    else if (f.status === "deleted") totals.deleted++;
    else totals[f.status]++;
    return;
  }
  totals[f.status as Exclude<FileStatus, "deleted">]++;
  if (f.status === "uploaded") totals.bytes += f.size;
  totals.bytesSent += f.bytesSent;
}

/**
 * The report as JSON text in pieces, laid out as `report_writer.ts` streams
 * it (head, one compact line per file, tail), so a 100,000-file report is
 * written without building one giant string.
 */
export function* reportJson(
  report: Report,
  { secrets = [], filesPerChunk = 1000 }: {
    secrets?: readonly (string | undefined)[];
    filesPerChunk?: number;
  } = {},
): Generator<string> {
  const { head, files, tail } = splitReport(report);
  yield headJson(head);
  for (let i = 0; i < files.length; i += filesPerChunk) {
    const lines = files.slice(i, i + filesPerChunk).map((f) => fileJson(f, secrets));
    yield (i === 0 ? "" : ",") + lines.join(",");
  }
  yield tailJson(tail, files.length);
}

/** `{`, the head's fields, and the opening of `files`. */
export function headJson(head: ReportHead): string {
  const text = JSON.stringify(head, null, 2);
  return text.slice(0, text.lastIndexOf("\n}")) + ',\n  "files": [';
}

/**
 * One file's line (with its leading newline and indent). Its `error` passes
 * through `safeText` with `secrets` (the password): a last line of defence
 * against server text with escape sequences or an echoed password.
 */
export function fileJson(f: ReportFile, secrets: readonly (string | undefined)[]): string {
  return "\n    " +
    JSON.stringify(f.error === undefined ? f : { ...f, error: safeText(f.error, secrets) });
}

/** The end of `files` and the tail's fields (`count`: files written). */
export function tailJson(tail: ReportTail, count: number): string {
  const text = JSON.stringify(tail, null, 2);
  return (count > 0 ? "\n  ],\n" : "],\n") + text.slice(text.indexOf("\n") + 1) + "\n";
}

/** The three parts of a report in memory. */
export function splitReport(
  r: Report,
): { head: ReportHead; files: ReportFile[]; tail: ReportTail } {
  const { version, startedAt, server, dryRun, plan, shard, merged, files, ...tail } = r;
  const head: ReportHead = {
    version,
    startedAt,
    server,
    dryRun,
    ...(plan ? { plan } : {}),
    ...(shard ? { shard } : {}),
    ...(merged ? { merged } : {}),
  };
  return { head, files, tail };
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
      : `${shard}${
        report.dryRun ? "dry run: " : ""
      }${t.files} files: ${t.uploaded} uploaded, ${t.skipped} skipped, ${
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
