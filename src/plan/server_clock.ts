/**
 * The server's clocks as the skip rules must read them. Pure: what the run
 * learned goes in (`ServerClock`), corrected remote times come out.
 *
 * Two readings of a remote time can be off by a time zone:
 * - **facts** (MLSD, MLST, MDTM): UTC by RFC 3659, but pyftpdlib with
 *   `use_gmt_times = False` and vsftpd with `use_localtime=YES` show their
 *   local time. The time probe learns this `factOffsetMs`: it sets a known
 *   time and reads it back; a read-back off by whole quarter hours within a
 *   zone's range (-12 h to +14 h) is that server's zone, not a refusal.
 * - **LIST** text: the server's local time on pure-ftpd, proftpd
 *   (`TimesGMT off`) and others. `listOffsetMs` is LIST minus facts for one
 *   file (its `MDTM` against its LIST line), learned once per run, or given by
 *   hand (`server.listTimeZone`, then LIST minus UTC).
 *
 * A time the run cannot trust is never used to skip: the caller asks such
 * files one by one (MDTM), or sends them.
 *
 * @example
 * ```ts
 * import { newServerClock, trueTime } from "./server_clock.ts";
 * const clock = newServerClock("+05:00"); // LIST shows UTC+5
 * trueTime({ type: "file", mtimeMs: Date.UTC(2026, 10, 26, 20, 39), precision: "minute" }, clock);
 * // Date.UTC(2026, 10, 26, 15, 39)
 * ```
 *
 * @module
 */

import type { RemoteEntry } from "../ftp/listing.ts";
import { parseTimeZone } from "../ftp/time_zone.ts";

export { formatOffset, parseTimeZone, zoneOffset } from "../ftp/time_zone.ts";

/** What the run knows of the server's clocks; one per run, filled in as it learns. */
export interface ServerClock {
  /**
   * LIST times minus fact times (learned), or minus UTC when `manual`.
   * Absent: not learned yet. `"untrusted"`: could not be learned.
   */
  listOffsetMs?: number | "untrusted";
  /** `server.listTimeZone` was given: `listOffsetMs` is the zone itself. */
  manual?: boolean;
  /** Fact times minus UTC, from the probe (absent: not probed, taken as 0). */
  factOffsetMs?: number;
  /** The probe ran (at most once per run). */
  probed?: boolean;
  /** What the probe found: the server sets times (`MFMT`, `MDTM time`, `SITE UTIME`). */
  setsTimes?: boolean;
  /** Notes already said (each once per run). */
  said: Set<string>;
}

/** A clock for one run; `listTimeZone` as validated (`"auto"`, `"UTC"`, `"+05:30"`). */
export function newServerClock(listTimeZone = "auto"): ServerClock {
  const zone = parseTimeZone(listTimeZone);
  return zone === undefined
    ? { said: new Set() }
    : { listOffsetMs: zone, manual: true, said: new Set() };
}

/** Whether an entry's time is LIST text (to the minute or day) rather than a fact. */
export function isListTime(entry: RemoteEntry): boolean {
  return entry.precision !== "second";
}

/**
 * The entry's time in UTC as far as the run knows the server's clocks;
 * `"untrusted"` for LIST text whose offset could not be learned, undefined
 * where the entry has no time.
 */
export function trueTime(
  entry: RemoteEntry,
  clock?: ServerClock,
): number | "untrusted" | undefined {
  if (entry.mtimeMs === undefined) return undefined;
  const fact = clock?.factOffsetMs ?? 0;
  if (!isListTime(entry)) return entry.mtimeMs - fact;
  if (clock === undefined) return entry.mtimeMs; // callers without a clock: as listed
  const list = clock.listOffsetMs;
  if (list === undefined || list === "untrusted") return "untrusted";
  return entry.mtimeMs - list - (clock.manual ? 0 : fact);
}
