/**
 * Whether a file is already on the server: the pure decision behind
 * `options.skip`, from the local file's size and time and the remote entry a
 * folder listing gave, read through what the run knows of the server's
 * clocks (`server_clock.ts`). No I/O.
 *
 * - `"size+mtime"` (default): same size, and the same modification time at the
 *   listing's precision (both truncated to the second, minute or day). The
 *   run sets each uploaded file's remote time to the local one, so an
 *   unchanged file matches on the next run. Where the server can set no time,
 *   same-size files are sent again every run (never skipped on a guess).
 * - `"size+newer"` (opt-in, for servers that cannot set times): as above, and
 *   a same-size remote copy at least as new as the local file also counts as
 *   unchanged. It loses a same-size edit made before the last upload's time
 *   and a rollback to an older file of the same size: the user chose it.
 * - `"size"`: same size is enough (for servers whose listed times cannot be
 *   trusted).
 * - `"none"`: everything is sent (`--force`).
 *
 * A time the run cannot trust (LIST text of an unknown time zone) never
 * skips a file: such files are asked one by one (`needsFileCheck`), else sent.
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

import * as posix from "../ftp/posix_path.ts";
import type { Listing, Precision, RemoteEntry } from "../ftp/listing.ts";
import { DEFAULT_OPTIONS, type SkipRule } from "../config/types.ts";
import { type ServerClock, trueTime, zoneOffset } from "./server_clock.ts";

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

/** What the run knows of the server when it decides. */
export interface SkipContext {
  /** The server's clocks as learned (absent: times taken as listed, in UTC). */
  clock?: ServerClock;
}

/** The reason for files skipped by the `"size+newer"` rule's lenient half. */
export const NOT_OLDER_REASON = "unchanged: same size, remote copy not older";

/** Said once per run when uploads found the server cannot set modification times. */
export const CANNOT_SET_TIMES_NOTE = "the server cannot set modification times: files of the " +
  'same size are sent again on every run (options.skip "size+newer" skips those whose remote ' +
  "copy is at least as new, at the risk of missing a same-size edit)";

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
  const t = trueTime(remote, context.clock);
  if (t === undefined) return send("remote modification time unknown");
  if (t === "untrusted") return send("remote time in an unknown time zone");
  const unit = UNIT_MS[remote.precision];
  const localT = Math.floor(local.mtimeMs / unit);
  const remoteT = Math.floor(t / unit);
  if (localT === remoteT) return { skip: true, reason: "unchanged: size+mtime" };
  // "Newer" needs the server's clock known: probed (a zone off would hide an edit), or no clock.
  const clockKnown = context.clock === undefined || context.clock.factOffsetMs !== undefined;
  if (rule === "size+newer" && remoteT > localT && clockKnown) {
    return { skip: true, reason: NOT_OLDER_REASON };
  }
  return send(`modification time differs (${remote.precision} precision)`);
}

/**
 * True when this file's decision needs the time probe first (once per run):
 * same size, and its remote time is off from the local one by whole quarter
 * hours (a server showing another zone), or, under `"size+newer"`, newer (a
 * server ahead of UTC would otherwise hide an edit).
 */
export function needsProbe(
  local: LocalFile,
  remote: RemoteEntry | undefined,
  rule: SkipRule,
  clock: ServerClock,
): boolean {
  if (clock.probed || rule === "none" || rule === "size") return false;
  if (remote?.type !== "file" || remote.size !== local.size) return false;
  const t = trueTime(remote, clock);
  if (typeof t !== "number" || remote.precision === "day") return false;
  const unit = UNIT_MS[remote.precision];
  const diff = (Math.floor(t / unit) - Math.floor(local.mtimeMs / unit)) * unit;
  if (diff === 0) return false;
  return zoneOffset(diff) !== undefined || (rule === "size+newer" && diff > 0);
}

/**
 * True when the listed time cannot be trusted and only that decides: same
 * size, LIST time of an unknown zone. The caller asks that one file (MDTM).
 */
export function needsFileCheck(
  local: LocalFile,
  remote: RemoteEntry | undefined,
  rule: SkipRule,
  clock: ServerClock,
): boolean {
  if (rule === "none" || rule === "size") return false;
  if (remote?.type !== "file" || remote.size !== local.size) return false;
  return trueTime(remote, clock) === "untrusted";
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
