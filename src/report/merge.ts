/**
 * Merges the reports of the shards of one config (`upload --shard K/N`) into
 * one report of the same schema, as if one run had done it all. Pure: the
 * command (`cli/report.ts`) reads and writes the files.
 *
 * Refused, with the report named: reports of different servers or configs,
 * dry runs mixed with real runs, two reports of one shard, a file in two
 * reports or in the wrong shard, and a missing shard (a merged report must
 * not look complete when a shard never reported).
 *
 * @example
 * ```ts
 * import { mergeReports } from "./merge.ts";
 * const merged = mergeReports([
 *   { name: "shard-0.json", report: r0 },
 *   { name: "shard-1.json", report: r1 },
 * ]);
 * merged.exitCode; // the worst of r0.exitCode and r1.exitCode
 * ```
 *
 * @module
 */

import { shardOf } from "../plan/shard.ts";
import { EXIT, exitCodeFor, type Report, type ReportEntry, totalsOf } from "./report.ts";

/** A report that cannot be merged; the message names the report file. */
export class MergeError extends Error {}

/**
 * Exit codes from worst to best: what a scheduler must act on first.
 * 2 (bad config: every shard will fail the same way) > 3 (a shard reached
 * no server: none of its files were tried) > 143, 130 (a shard was stopped:
 * part of its files not tried) > 1 (a shard finished with some files
 * missing or failed) > 0.
 */
export const EXIT_SEVERITY: readonly number[] = [
  EXIT.usage,
  EXIT.connect,
  EXIT.SIGTERM,
  EXIT.SIGINT,
  EXIT.someFailed,
  EXIT.ok,
];

/** The worst of the exit codes by {@linkcode EXIT_SEVERITY}; 0 for none. */
export function worstExitCode(codes: number[]): number {
  let worst: number = EXIT.ok;
  for (const code of codes) {
    if (EXIT_SEVERITY.indexOf(code) < EXIT_SEVERITY.indexOf(worst)) worst = code;
  }
  return worst;
}

export interface NamedReport {
  /** Shown in errors, usually the file name. */
  name: string;
  /** Parsed JSON, not yet checked. */
  report: unknown;
}

/** One report made of every shard's report; throws MergeError when they do not fit together. */
export function mergeReports(inputs: NamedReport[]): Report {
  if (inputs.length === 0) throw new MergeError("no reports to merge");
  const reports = inputs.map(({ name, report }) => ({ name, report: checkShape(name, report) }));
  const first = reports[0];
  const { count, digest } = first.report.shard;
  const byIndex = new Map<number, string>();
  const owner = new Map<string, string>(); // destination -> report name
  for (const { name, report } of reports) {
    const theirs = `${name} (${serverText(report)})`;
    if (serverText(report) !== serverText(first.report)) {
      throw new MergeError(
        `${theirs} is for another server than ${first.name} (${serverText(first.report)})`,
      );
    }
    if (report.shard.count !== count) {
      throw new MergeError(
        `${name} is shard ${shardText(report)} but ${first.name} is shard ${
          shardText(first.report)
        }: shards of different counts do not fit together`,
      );
    }
    if (report.shard.digest !== digest) {
      throw new MergeError(
        `${name} and ${first.name} come from different configs (their lists of files differ)`,
      );
    }
    if (report.dryRun !== first.report.dryRun) {
      throw new MergeError(`${name} and ${first.name} mix a dry run with a real run`);
    }
    const other = byIndex.get(report.shard.index);
    if (other !== undefined) {
      throw new MergeError(`${name} and ${other} are both shard ${shardText(report)}`);
    }
    byIndex.set(report.shard.index, name);
    for (const f of report.files) {
      const seen = owner.get(f.destination);
      if (seen !== undefined) {
        throw new MergeError(`${f.destination} is in both ${seen} and ${name}`);
      }
      owner.set(f.destination, name);
      const belongs = shardOf(f.destination, count);
      if (belongs !== report.shard.index) {
        throw new MergeError(
          `${name} is shard ${shardText(report)} but lists ${f.destination}, ` +
            `which belongs to shard ${belongs}/${count}`,
        );
      }
    }
  }
  const absent = [...Array(count).keys()].filter((i) => !byIndex.has(i));
  if (absent.length > 0) {
    const shown = absent.slice(0, 20).map((i) => `${i}/${count}`).join(", ");
    throw new MergeError(
      `no report for shard${absent.length === 1 ? "" : "s"} ${shown}${
        absent.length > 20 ? ` and ${absent.length - 20} more` : ""
      }; merge needs all ${count}`,
    );
  }
  return combine(reports.map((r) => r.report), count, digest);
}

type ShardReport = Report & { shard: NonNullable<Report["shard"]> };

function combine(reports: ShardReport[], count: number, digest: string): Report {
  const sorted = [...reports].sort((a, b) => a.shard.index - b.shard.index);
  // Destinations are unique across shards, so this order does not depend on the inputs' order.
  const files = sorted.flatMap((r) => r.files).sort((a, b) =>
    compare(a.destination, b.destination)
  );
  const startedAt = Math.min(...sorted.map((r) => Date.parse(r.startedAt)));
  const finishedAt = Math.max(...sorted.map((r) => Date.parse(r.finishedAt)));
  const signals = sorted.flatMap((r) => (r.interrupted ? [r.interrupted] : []));
  const interrupted = signals.includes("SIGTERM") ? "SIGTERM" : signals[0];
  return {
    version: 1,
    startedAt: new Date(startedAt).toISOString(),
    finishedAt: new Date(finishedAt).toISOString(),
    durationMs: finishedAt - startedAt,
    server: sorted[0].server,
    workers: sorted.reduce((n, r) => n + r.workers, 0),
    dryRun: sorted[0].dryRun,
    ...(interrupted ? { interrupted } : {}),
    exitCode: worstExitCode(sorted.map((r) => r.exitCode)),
    merged: {
      count,
      digest,
      shards: sorted.map((r) => ({
        index: r.shard.index,
        exitCode: r.exitCode,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
      })),
    },
    totals: totalsOf(files, sorted.reduce((n, r) => n + r.totals.reconnects, 0)),
    ...mergeEntries(sorted),
    files,
  };
}

/** Folder entries' totals: each shard walked the same folders, so the counts add up by entry. */
function mergeEntries(reports: Report[]): { entries?: ReportEntry[] } {
  const byIndex = new Map<number, ReportEntry>();
  for (const e of reports.flatMap((r) => r.entries ?? [])) {
    const sum = byIndex.get(e.index);
    if (!sum) {
      byIndex.set(e.index, { ...e });
      continue;
    }
    for (const [key, value] of Object.entries(e)) {
      const k = key as keyof ReportEntry;
      if (typeof value === "number" && k !== "index") (sum[k] as number) += value;
    }
  }
  const entries = [...byIndex.values()].sort((a, b) => a.index - b.index);
  return entries.length > 0 ? { entries } : {};
}

const STATUSES = new Set(["uploaded", "skipped", "planned", "missing", "failed", "deleted"]);

/** Enough checking that a wrong or truncated file gets a sentence, not a TypeError. */
function checkShape(name: string, raw: unknown): ShardReport {
  const r = raw as Partial<Report> | null;
  const bad = (what: string) => new MergeError(`${name} is not an ftpbatch report: ${what}`);
  if (typeof r !== "object" || r === null || Array.isArray(r)) throw bad("not a JSON object");
  if (r.version !== 1) throw bad(`"version" is ${JSON.stringify(r.version)}, expected 1`);
  if (!Array.isArray(r.files)) throw bad('no "files" array');
  if (typeof r.totals !== "object" || r.totals === null) throw bad('no "totals"');
  if (typeof r.server !== "object" || r.server === null) throw bad('no "server"');
  for (const key of ["startedAt", "finishedAt"] as const) {
    if (typeof r[key] !== "string" || Number.isNaN(Date.parse(r[key]))) throw bad(`bad "${key}"`);
  }
  r.files.forEach((f, i) => {
    if (typeof f?.destination !== "string" || !STATUSES.has(f?.status)) {
      throw bad(`files[${i}] has no destination or status`);
    }
  });
  const s = r.shard;
  if (
    typeof s !== "object" || s === null || !Number.isInteger(s.index) ||
    !Number.isInteger(s.count) || typeof s.digest !== "string"
  ) {
    throw new MergeError(
      `${name} is not a shard report (no "shard" field); write shard reports with upload --shard K/N`,
    );
  }
  // Reports written before `exitCode` existed: the same rule the run used (3 cannot be told).
  const exitCode = r.exitCode ?? exitCodeFor(r as Report);
  if (!EXIT_SEVERITY.includes(exitCode)) {
    throw bad(`"exitCode" ${JSON.stringify(exitCode)} is not one ftpbatch writes`);
  }
  return { ...(r as ShardReport), exitCode };
}

function serverText(r: Report): string {
  const s = r.server;
  const tls = s.secure === "implicit" ? " (implicit FTPS)" : s.secure ? " (FTPS)" : "";
  return `${s.user}@${s.host}:${s.port}${tls}`;
}

function shardText(r: ShardReport): string {
  return `${r.shard.index}/${r.shard.count}`;
}

/** By UTF-16 code unit (not `localeCompare`), so the order is the same on every machine. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
