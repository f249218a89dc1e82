/**
 * FTP's machine time stamps (RFC 3659 `time-val`): `YYYYMMDDHHMMSS[.sss]`,
 * always UTC. Used by MDTM replies, MLSD `modify` facts, and the commands
 * that set a remote file's time (MFMT, SITE UTIME, vsftpd's MDTM).
 *
 * @example
 * ```ts
 * import { formatFtpTime, parseFtpTime } from "./ftp_time.ts";
 * formatFtpTime(Date.UTC(2026, 10, 26, 15, 39, 7, 900)); // "20261126153907"
 * parseFtpTime("20261126153907.5"); // Date.UTC(2026, 10, 26, 15, 39, 7, 500)
 * ```
 *
 * @module
 */

import type { Reply } from "./reply.ts";
import { Code } from "./codes.ts";

const TIME_VAL = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,9}))?$/;

/** `ms` as `YYYYMMDDHHMMSS` in UTC, the fraction dropped (servers set whole seconds). */
export function formatFtpTime(ms: number): string {
  const d = new Date(Math.floor(ms / 1000) * 1000);
  const two = (n: number) => String(n).padStart(2, "0");
  return String(d.getUTCFullYear()).padStart(4, "0") + two(d.getUTCMonth() + 1) +
    two(d.getUTCDate()) + two(d.getUTCHours()) + two(d.getUTCMinutes()) +
    two(d.getUTCSeconds());
}

/**
 * A `time-val` as epoch milliseconds, or `undefined` when it is not one
 * (wrong shape, or a field out of range such as month 13 or 31 February).
 */
export function parseFtpTime(text: string): number | undefined {
  const m = TIME_VAL.exec(text.trim());
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number);
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  // Seconds up to 60: RFC 3659 allows a leap second (it rolls over into the next minute).
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  return utcTime(year, month, day, hour, minute, second, ms);
}

/**
 * Epoch milliseconds of a UTC calendar time (`month` 1-12), or `undefined`
 * for a day the month does not have (31 April, 29 February 2027): refused,
 * not rolled over into the next month as `Date.UTC` would.
 */
export function utcTime(
  year: number,
  month: number,
  day: number,
  hour = 0,
  minute = 0,
  second = 0,
  ms = 0,
): number | undefined {
  if (month < 1 || month > 12 || day < 1 || day > daysIn(year, month)) return undefined;
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute));
  d.setUTCFullYear(year); // Date.UTC reads years 0-99 as 1900-1999
  // Seconds added last, so a leap second (60) rolls over into the right year too.
  return d.getTime() + second * 1000 + ms;
}

function daysIn(year: number, month: number): number {
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1];
}

/** The time in an MDTM reply (`213 YYYYMMDDHHMMSS`); `undefined` for an error reply or no time. */
export function mdtmFrom(reply: Reply): number | undefined {
  if (reply.code !== Code.FileStatus) return undefined;
  return parseFtpTime(reply.message.slice(4));
}
