/**
 * The checks of a shard report before it is merged (`merge.ts`): its head
 * (version, server, shard, config digest), each file record, its tail, and
 * whether it fits the first report read. Each refusal is a `MergeError`
 * naming the report file.
 *
 * @module
 */

import {
  EXIT,
  exitCodeFor,
  type Report,
  type ReportEntry,
  type ReportFile,
  type ReportHead,
  type ReportShard,
  type ReportTail,
  type Totals,
} from "./report.ts";

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

/** A shard report as far as it was read. */
export interface ShardState {
  name: string;
  /** Position among the inputs. */
  input: number;
  head: ReportHead & { shard: ReportShard };
  tail?: ReportTail;
  files: number;
  totals: Omit<Totals, "reconnects">;
}

/** Another report must match the first one's server, shard count, config and kind of run. */
export function fits(name: string, head: ShardState["head"], first: ShardState): void {
  if (serverText(head) !== serverText(first.head)) {
    throw new MergeError(
      `${name} (${serverText(head)}) is for another server than ${first.name} (${
        serverText(first.head)
      })`,
    );
  }
  if (head.shard.count !== first.head.shard.count) {
    throw new MergeError(
      `${name} is shard ${shardText(head)} but ${first.name} is shard ${
        shardText(first.head)
      }: shards of different counts do not fit together`,
    );
  }
  if (head.shard.digest !== first.head.shard.digest) {
    throw new MergeError(
      `${name} and ${first.name} come from different configs (their lists of files differ)`,
    );
  }
  if (head.shard.config !== first.head.shard.config) {
    throw new MergeError(
      `${name} and ${first.name} were run under different settings (the digests of their ` +
        `effective configs differ: another include, exclude, source, skip rule or server option)`,
    );
  }
  if (head.dryRun !== first.head.dryRun) {
    throw new MergeError(`${name} and ${first.name} mix a dry run with a real run`);
  }
}

/** The error for a file that is not a report at all (`what` says why). */
export function notReport(name: string, what: string): MergeError {
  return new MergeError(`${name} is not an ftpbatch report: ${what}`);
}

const HEX64 = /^[0-9a-f]{64}$/;

/** The fields before `files`, checked enough that a wrong file gets a sentence, not a TypeError. */
export function checkHead(name: string, r: Record<string, unknown>): ShardState["head"] {
  const bad = (what: string) => notReport(name, what);
  if (r.version !== 1 && r.version !== 2) {
    throw bad(`"version" is ${JSON.stringify(r.version)}, expected 1 or 2`);
  }
  const server = r.server as ReportHead["server"] | undefined;
  if (typeof server !== "object" || server === null) throw bad('no "server" before "files"');
  if (typeof r.startedAt !== "string" || Number.isNaN(Date.parse(r.startedAt))) {
    throw bad('bad "startedAt"');
  }
  const s = r.shard as Partial<ReportShard> | undefined;
  if (
    typeof s !== "object" || s === null || !Number.isInteger(s.index) ||
    !Number.isInteger(s.count) || typeof s.digest !== "string"
  ) {
    throw new MergeError(
      `${name} is not a shard report (no "shard" field before "files"); write shard reports with upload --shard K/N`,
    );
  }
  if (s.count! < 1 || s.index! < 0 || s.index! >= s.count!) {
    throw new MergeError(
      `${name} says shard ${s.index}/${s.count}: shards of ${s.count} are numbered 0 to ${
        s.count! - 1
      }`,
    );
  }
  if (typeof s.config !== "string" || !HEX64.test(s.config)) {
    throw new MergeError(
      `${name} has no digest of its config ("shard.config"): it was written by an older ` +
        `ftpbatch, so it cannot be told apart from a shard run under other settings; ` +
        `run the shards again with this version`,
    );
  }
  if (typeof r.dryRun !== "boolean") throw bad('no "dryRun"');
  return {
    version: 2,
    startedAt: r.startedAt,
    server,
    dryRun: r.dryRun,
    shard: s as ReportShard,
  };
}

/** The fields after `files` (for a report in memory: all of them). */
export function checkTail(name: string, r: Record<string, unknown>): ReportTail {
  const bad = (what: string) => notReport(name, what);
  const totals = r.totals as Totals | undefined;
  if (typeof totals !== "object" || totals === null) throw bad('no "totals"');
  if (typeof r.finishedAt !== "string" || Number.isNaN(Date.parse(r.finishedAt))) {
    throw bad('bad "finishedAt"');
  }
  // Reports written before `exitCode` existed: the same rule the run used (3 cannot be told).
  const exitCode = (r.exitCode ?? exitCodeFor(r as unknown as Report)) as number;
  if (!EXIT_SEVERITY.includes(exitCode)) {
    throw bad(`"exitCode" ${JSON.stringify(exitCode)} is not one ftpbatch writes`);
  }
  if (r.entries !== undefined && !Array.isArray(r.entries)) throw bad('"entries" is not a list');
  return {
    finishedAt: r.finishedAt,
    durationMs: Number(r.durationMs) || 0,
    workers: Number(r.workers) || 0,
    ...(r.interrupted === "SIGINT" || r.interrupted === "SIGTERM"
      ? { interrupted: r.interrupted }
      : {}),
    exitCode,
    totals: { ...totals, reconnects: Number(totals.reconnects) || 0 },
    ...(r.entries ? { entries: r.entries as ReportEntry[] } : {}),
  };
}

const STATUSES = new Set(["uploaded", "skipped", "planned", "missing", "failed", "deleted"]);
const COUNTS = ["size", "bytesSent", "attempts"] as const;

export function checkFile(name: string, raw: unknown, i: number): ReportFile {
  const f = raw as Partial<ReportFile> | null;
  if (typeof f?.destination !== "string" || !STATUSES.has(f?.status as string)) {
    throw notReport(name, `files[${i}] has no destination or status`);
  }
  for (const key of COUNTS) {
    const v = f[key];
    if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0) {
      throw notReport(
        name,
        `files[${i}] (${f.destination}) has ${key} ${
          JSON.stringify(v)
        }, not a whole number of 0 or more`,
      );
    }
  }
  return f as ReportFile;
}

function serverText(r: ReportHead): string {
  const s = r.server;
  const tls = s.secure === "implicit" ? " (implicit FTPS)" : s.secure ? " (FTPS)" : "";
  return `${s.user}@${s.host}:${s.port}${tls}`;
}

export function shardText(r: { shard: ReportShard }): string {
  return `${r.shard.index}/${r.shard.count}`;
}
