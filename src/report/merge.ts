/**
 * Merges the reports of the shards of one config (`upload --shard K/N`) into
 * one report of the same schema, as if one run had done it all. The checks
 * and the merged head and tail are worked out one file record at a time
 * (`MergeCheck`), so report files are read as streams (`merge_files.ts`)
 * and memory does not grow with their size; `mergeReports` does the same
 * for reports already in memory.
 *
 * Refused, with the report named: reports of different servers or configs
 * (the list of files, or the whole effective config: `shard.config`), dry
 * runs mixed with real runs, two reports of one shard, a shard index beyond
 * the count, a file in two reports or in the wrong shard, a file without a
 * numeric size, an upload inside a dry-run report, shards started too far
 * apart (a stale report), and a missing shard (a merged report must not
 * look complete when a shard never reported).
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
import {
  addToTotals,
  emptyTotals,
  EXIT,
  type Report,
  type ReportEntry,
  type ReportFile,
  type ReportHead,
  type ReportSummary,
  type ReportTail,
  type Totals,
} from "./report.ts";
import { MAX_PROBLEMS } from "./summary.ts";
import { DestinationSet } from "./destination_set.ts";
import {
  checkFile,
  checkHead,
  checkTail,
  EXIT_SEVERITY,
  fits,
  MergeError,
  notReport,
  type ShardState,
  shardText,
} from "./merge_checks.ts";

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

export interface MergeOptions {
  /** Shards whose start times lie further apart are refused as stale (default 12 h). */
  maxSpreadMs?: number;
}

export const DEFAULT_MAX_SPREAD_MS = 12 * 3600 * 1000;

/** One report made of every shard's report; throws MergeError when they do not fit together. */
export function mergeReports(inputs: NamedReport[], opts: MergeOptions = {}): Report {
  const check = new MergeCheck(opts);
  const files: ReportFile[][] = [];
  for (const { name, report } of inputs) {
    const raw = report as Record<string, unknown> | null;
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
      throw new MergeError(`${name} is not an ftpbatch report: not a JSON object`);
    }
    const { files: list, ...fields } = raw;
    if (!Array.isArray(list)) throw notReport(name, 'no "files" array');
    const r = check.start(name, fields);
    files.push(list.map((f, i) => check.file(r, f, i)));
    check.end(r, fields);
  }
  const { head, tail, order } = check.finish();
  return { ...head, files: order.flatMap((k) => files[k]), ...tail };
}

/** The summary's view of a merge checked by `check` (its first problems, not all files). */
export function mergedSummary(
  check: MergeCheck,
  head: ReportHead,
  tail: ReportTail,
): ReportSummary {
  return {
    ...head,
    ...tail,
    problems: check.problems,
    problemCount: check.problemCount,
    plannedBytes: check.plannedBytes,
  };
}

/**
 * The merge's checks, fed one report at a time: `start` with the fields
 * before `files`, `file` for each record, `end` with every field. `finish`
 * gives the merged head and tail and the order of the inputs (by shard).
 */
export class MergeCheck {
  readonly #maxSpreadMs: number;
  readonly #states: ShardState[] = [];
  readonly #byIndex = new Map<number, string>();
  readonly #seen = new DestinationSet();
  /** The first problems (failed or missing files) and how many, for the summary. */
  readonly problems: ReportFile[] = [];
  problemCount = 0;
  plannedBytes = 0;

  constructor(opts: MergeOptions = {}) {
    this.#maxSpreadMs = opts.maxSpreadMs ?? DEFAULT_MAX_SPREAD_MS;
  }

  /** The fields before `files` (or all of them, for a report in memory). */
  start(name: string, fields: Record<string, unknown>): ShardState {
    const head = checkHead(name, fields);
    const first = this.#states[0];
    if (first) fits(name, head, first);
    const other = this.#byIndex.get(head.shard.index);
    if (other !== undefined) {
      throw new MergeError(`${name} and ${other} are both shard ${shardText(head)}`);
    }
    this.#byIndex.set(head.shard.index, name);
    const { reconnects: _, ...totals } = emptyTotals();
    const state: ShardState = { name, input: this.#states.length, head, files: 0, totals };
    this.#states.push(state);
    return state;
  }

  /** One record of `r`'s `files`: checked, counted; returned typed. */
  file(r: ShardState, raw: unknown, i: number): ReportFile {
    const f = checkFile(r.name, raw, i);
    const { count, index } = r.head.shard;
    const owner = this.#seen.add(f.destination, r.input);
    if (owner !== undefined) {
      throw new MergeError(`${f.destination} is in both ${this.#states[owner].name} and ${r.name}`);
    }
    const belongs = shardOf(f.destination, count);
    if (belongs !== index) {
      throw new MergeError(
        `${r.name} is shard ${shardText(r.head)} but lists ${f.destination}, ` +
          `which belongs to shard ${belongs}/${count}`,
      );
    }
    if (r.head.dryRun && (f.status === "uploaded" || f.bytesSent > 0)) {
      throw new MergeError(
        `${r.name} is a dry run but says ${f.destination} was ${
          f.status === "uploaded" ? "uploaded" : "sent"
        }: a dry run sends nothing (an edited or mixed-up report)`,
      );
    }
    r.files++;
    addToTotals(r.totals, f);
    if (f.status === "planned") this.plannedBytes += f.size;
    if (f.status === "failed" || f.status === "missing") {
      if (this.problemCount++ < MAX_PROBLEMS) this.problems.push(f);
    }
    return f;
  }

  /** Every field of the report `r` (those after its `files` at least). */
  end(r: ShardState, fields: Record<string, unknown>): void {
    r.tail = checkTail(r.name, fields);
  }

  /** The merged report's head and tail, and the inputs' positions in shard order. */
  finish(): { head: ReportHead; tail: ReportTail; order: number[] } {
    if (this.#states.length === 0) throw new MergeError("no reports to merge");
    const sorted = [...this.#states].sort((a, b) => a.head.shard.index - b.head.shard.index);
    const { count, digest, config } = sorted[0].head.shard;
    const absent = [...Array(count).keys()].filter((i) => !this.#byIndex.has(i));
    if (absent.length > 0) {
      const shown = absent.slice(0, 20).map((i) => `${i}/${count}`).join(", ");
      throw new MergeError(
        `no report for shard${absent.length === 1 ? "" : "s"} ${shown}${
          absent.length > 20 ? ` and ${absent.length - 20} more` : ""
        }; merge needs all ${count}`,
      );
    }
    const starts = sorted.map((r) => Date.parse(r.head.startedAt));
    const startedAt = Math.min(...starts);
    const latest = sorted[starts.indexOf(Math.max(...starts))];
    const earliest = sorted[starts.indexOf(startedAt)];
    if (Date.parse(latest.head.startedAt) - startedAt > this.#maxSpreadMs) {
      throw new MergeError(
        `${earliest.name} started at ${earliest.head.startedAt} but ${latest.name} at ${latest.head.startedAt}: ` +
          `more than ${hours(this.#maxSpreadMs)} apart, so one of them is from another run ` +
          `(a stale report); merge the shards of one run (--max-spread HOURS to allow more)`,
      );
    }
    const tails = sorted.map((r) => r.tail!);
    const finishedAt = Math.max(...tails.map((t) => Date.parse(t.finishedAt)));
    const signals = tails.flatMap((t) => (t.interrupted ? [t.interrupted] : []));
    const interrupted = signals.includes("SIGTERM") ? "SIGTERM" : signals[0];
    const totals = emptyTotals(tails.reduce((n, t) => n + t.totals.reconnects, 0));
    for (const r of sorted) {
      for (const [k, v] of Object.entries(r.totals)) totals[k as keyof Totals] += v;
    }
    const entries = mergeEntries(tails);
    const head: ReportHead = {
      version: 2,
      startedAt: new Date(startedAt).toISOString(),
      server: sorted[0].head.server,
      dryRun: sorted[0].head.dryRun,
      merged: {
        count,
        digest,
        config,
        shards: sorted.map((r) => ({
          index: r.head.shard.index,
          exitCode: r.tail!.exitCode,
          startedAt: r.head.startedAt,
          finishedAt: r.tail!.finishedAt,
        })),
      },
    };
    const tail: ReportTail = {
      finishedAt: new Date(finishedAt).toISOString(),
      durationMs: finishedAt - startedAt,
      workers: tails.reduce((n, t) => n + t.workers, 0),
      ...(interrupted ? { interrupted } : {}),
      exitCode: worstExitCode(tails.map((t) => t.exitCode)),
      totals,
      ...(entries.length > 0 ? { entries } : {}),
    };
    return { head, tail, order: sorted.map((r) => r.input) };
  }

  /** The reports read so far, in input order. */
  get states(): readonly ShardState[] {
    return this.#states;
  }
}

/** Folder entries' totals: each shard walked the same folders, so the counts add up by entry. */
function mergeEntries(tails: ReportTail[]): ReportEntry[] {
  const byIndex = new Map<number, ReportEntry>();
  for (const e of tails.flatMap((t) => t.entries ?? [])) {
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
  return [...byIndex.values()].sort((a, b) => a.index - b.index);
}

function hours(ms: number): string {
  const h = ms / 3600_000;
  return `${Number.isInteger(h) ? h : h.toFixed(2)} hour${h === 1 ? "" : "s"}`;
}
