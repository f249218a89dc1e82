/**
 * Whether a file is already on the server: the pure decision behind
 * `options.skip`, from the local file's size and time and the remote entry a
 * folder listing gave. No I/O.
 *
 * - `"size+mtime"` (default): same size, and the same modification time at the
 *   listing's precision (both truncated to the second, minute or day). The
 *   run sets each uploaded file's remote time to the local one, so an
 *   unchanged file matches on the next run. Where the server can set no time
 *   (learned), a remote copy of the same size at least as new as the local
 *   file counts as unchanged: it was uploaded after the local file was last
 *   written.
 * - `"size"`: same size is enough (for servers whose listed times cannot be
 *   trusted).
 * - `"none"`: everything is sent (`--force`).
 *
 * A listing to the minute (LIST on vsftpd) cannot see a change within the
 * same minute that keeps the size; `"none"` is the answer to that.
 *
 * @example
 * ```ts
 * import { decideSkip } from "./skip.ts";
 * const t = Date.UTC(2026, 10, 26, 15, 39, 7);
 * decideSkip({ size: 5, mtimeMs: t + 400 }, { type: "file", size: 5, mtimeMs: t, precision: "second" });
 * // { skip: true, reason: "unchanged: size+mtime" }
 * ```
 *
 * @module
 */

import { posix } from "node:path";
import type { Listing, Precision, RemoteEntry } from "../ftp/listing.ts";
import { DEFAULT_OPTIONS, type SkipRule } from "../config/types.ts";

export type { SkipRule };

export const DEFAULT_SKIP_RULE: SkipRule = DEFAULT_OPTIONS.skip;

/** The local side: what the run saw of the source file. */
export interface LocalFile {
  size: number;
  mtimeMs: number;
}

/** Skip (nothing sent) or send, and why, in words for the report. */
export interface SkipDecision {
  skip: boolean;
  reason: string;
}

/** What the run knows of the server's ability to set modification times. */
export interface SkipContext {
  /**
   * `false`: learned that the server can set no time, so remote times are
   * upload times. `true` or absent: remote times are compared for equality.
   */
  serverSetsTimes?: boolean;
}

/** The reason for files skipped by the rule for servers that cannot set times. */
export const NOT_OLDER_REASON = "unchanged: same size, remote copy not older";

/** Said once per run (report/log) when {@linkcode NOT_OLDER_REASON} decided any file. */
export const CANNOT_SET_TIMES_NOTE = "the server cannot set modification times: a file of the " +
  "same size whose remote copy is at least as new as the local one counts as unchanged";

const UNIT_MS: Record<Precision, number> = { second: 1000, minute: 60_000, day: 86_400_000 };

/** Decides for one file; `remote` is its destination's listing entry, if the listing had one. */
export function decideSkip(
  local: LocalFile,
  remote: RemoteEntry | undefined,
  rule: SkipRule = DEFAULT_SKIP_RULE,
  context: SkipContext = {},
): SkipDecision {
  if (rule === "none") return send("skip rule none: always sent");
  if (!remote) return send("not on the server");
  if (remote.type !== "file") return send(`on the server as a ${describe(remote.type)}`);
  if (remote.size === undefined) return send("remote size unknown");
  if (remote.size !== local.size) {
    return send(`size differs (local ${local.size}, remote ${remote.size} bytes)`);
  }
  if (rule === "size") return { skip: true, reason: "unchanged: size" };
  if (remote.mtimeMs === undefined) return send("remote modification time unknown");
  const unit = UNIT_MS[remote.precision];
  const localT = Math.floor(local.mtimeMs / unit);
  const remoteT = Math.floor(remote.mtimeMs / unit);
  if (localT === remoteT) return { skip: true, reason: "unchanged: size+mtime" };
  if (context.serverSetsTimes === false && remoteT > localT) {
    return { skip: true, reason: NOT_OLDER_REASON };
  }
  return send(`modification time differs (${remote.precision} precision)`);
}

/**
 * True when the decision for this file turns on whether the server can set
 * times (same size, remote newer): the run need only learn that ability when
 * some file needs it.
 */
export function dependsOnTimeSetting(
  local: LocalFile,
  remote: RemoteEntry | undefined,
  rule: SkipRule = DEFAULT_SKIP_RULE,
): boolean {
  const strict = decideSkip(local, remote, rule, { serverSetsTimes: true });
  const lenient = decideSkip(local, remote, rule, { serverSetsTimes: false });
  return strict.skip !== lenient.skip;
}

/**
 * The folders to list before deciding: each destination's folder once,
 * except those this run just created (empty: nothing there to skip). The
 * cost of a re-run grows with these, not with the number of files.
 */
export function foldersToList(
  destinations: Iterable<string>,
  created: ReadonlySet<string> = new Set(),
): string[] {
  const folders = new Set<string>();
  for (const dest of destinations) {
    const dir = posix.dirname(dest);
    if (!created.has(dir)) folders.add(dir);
  }
  return [...folders].sort();
}

/** A destination's entry in the listings of its folder (`undefined`: not listed, or not there). */
export function remoteEntryOf(
  listings: ReadonlyMap<string, Listing>,
  destination: string,
): RemoteEntry | undefined {
  return listings.get(posix.dirname(destination))?.get(posix.basename(destination));
}

/** Jobs split into those to send and those already on the server, each with its reason. */
export interface SkipPlan<J> {
  send: J[];
  skipped: { job: J; reason: string }[];
  /** How many were skipped by the rule for servers that cannot set times (say so once). */
  notOlder: number;
}

/** Applies {@linkcode decideSkip} to every job, keeping their order. */
export function planSkips<J extends LocalFile & { destination: string }>(
  jobs: readonly J[],
  listings: ReadonlyMap<string, Listing>,
  rule: SkipRule = DEFAULT_SKIP_RULE,
  context: SkipContext = {},
): SkipPlan<J> {
  const plan: SkipPlan<J> = { send: [], skipped: [], notOlder: 0 };
  for (const job of jobs) {
    const decision = decideSkip(job, remoteEntryOf(listings, job.destination), rule, context);
    if (!decision.skip) {
      plan.send.push(job);
      continue;
    }
    plan.skipped.push({ job, reason: decision.reason });
    if (decision.reason === NOT_OLDER_REASON) plan.notOlder++;
  }
  return plan;
}

function send(reason: string): SkipDecision {
  return { skip: false, reason };
}

function describe(type: RemoteEntry["type"]): string {
  return type === "dir" ? "folder" : type === "link" ? "symbolic link" : "special file";
}
