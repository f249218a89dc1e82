/**
 * Time zone arithmetic for server clocks (see `src/plan/server_clock.ts` for
 * how the run uses it): an offset is whole quarter hours from -12:00 to
 * +14:00, the range of the zones in use.
 *
 * @example
 * ```ts
 * import { zoneOffset } from "./time_zone.ts";
 * zoneOffset(5 * 3_600_000); // 18000000: five hours ahead
 * zoneOffset(5 * 3_600_000 + 7_000); // undefined: not a zone
 * ```
 *
 * @module
 */

const QUARTER_HOUR_MS = 15 * 60_000;
const HOUR_MS = 3_600_000;
/** The zones in use run from UTC-12:00 to UTC+14:00. */
const MOST_BEHIND_MS = -12 * HOUR_MS;
const MOST_AHEAD_MS = 14 * HOUR_MS;

/**
 * `"UTC"`, `"Z"` or `"+05:30"` / `"-03:00"` as an offset in ms; undefined for
 * `"auto"` and for anything that is not a zone (validation says so).
 */
export function parseTimeZone(text: string): number | undefined {
  if (text === "UTC" || text === "Z") return 0;
  const m = /^([+-])(\d{2}):(\d{2})$/.exec(text);
  if (!m) return undefined;
  const ms = (Number(m[2]) * 60 + Number(m[3])) * 60_000 * (m[1] === "-" ? -1 : 1);
  return Number(m[3]) % 15 === 0 && ms >= MOST_BEHIND_MS && ms <= MOST_AHEAD_MS ? ms : undefined;
}

/** `+05:00`, `-03:30`. */
export function formatOffset(ms: number): string {
  const minutes = Math.abs(ms) / 60_000;
  const hh = String(Math.floor(minutes / 60)).padStart(2, "0");
  const mm = String(minutes % 60).padStart(2, "0");
  return `${ms < 0 ? "-" : "+"}${hh}:${mm}`;
}

/**
 * `diffMs` (a time as read minus the true one, both truncated to the same
 * unit) as a zone offset: whole quarter hours within a zone's range, give or
 * take `toleranceMs` (0: exactly). Undefined when it is no zone.
 */
export function zoneOffset(diffMs: number, toleranceMs = 0): number | undefined {
  const quarters = Math.round(diffMs / QUARTER_HOUR_MS) * QUARTER_HOUR_MS;
  if (quarters < MOST_BEHIND_MS || quarters > MOST_AHEAD_MS) return undefined;
  return Math.abs(diffMs - quarters) <= toleranceMs ? quarters + 0 : undefined;
}
