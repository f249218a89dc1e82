/**
 * The run report: one JSON document a scheduler can keep, and the exit code
 * (the human summary is `summary.ts`). Pure: the coordinator collects, this shapes.
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

/** Counts by status and bytes of `files`. */
function totalsOf(files: ReportFile[], reconnects: number): Totals {
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
