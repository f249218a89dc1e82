/**
 * Folder listings read into name → { size, time, precision, type }, so a
 * re-run can tell what is already on the server with one listing per folder
 * instead of commands per file.
 *
 * - MLSD (RFC 3659): machine facts, `modify` in UTC to the second.
 * - LIST: free-form text, read with basic-ftp's parser (Unix `ls -l` and
 *   DOS/IIS styles; anchored, linear-time expressions), loaded only when a
 *   LIST is actually read so plain-FTP runs never load basic-ftp. Its time
 *   text is turned into a time here: Unix `Nov 26 15:39` (to the minute, year
 *   inferred: the latest such date not after `now`) or `Nov 26  2025` (to the
 *   day), DOS `11-26-26  03:39PM` (to the minute).
 * - Per file, the last resort: an MLST reply, or SIZE and MDTM replies.
 *
 * LIST times are read as UTC: vsftpd (`use_localtime=NO`, its default) and
 * pyftpdlib (`use_gmt_times`, its default) list UTC. A server listing its
 * local time instead makes times look shifted, so files are sent again rather
 * than skipped (see `src/plan/skip.ts`).
 *
 * Names are kept exactly as listed, never normalized: a remote NFD `café`
 * is another file than the NFC destination this run sends (seen on pyftpdlib
 * and vsftpd, which store the bytes they get), so it must not match. Bytes are
 * decoded as UTF-8 (a session with a legacy code page decodes them itself and
 * passes text).
 *
 * A listing whose last line has no line end was cut (seen from a middlebox
 * that closed the data connection mid-name while the server still said 226):
 * its last name may be the prefix of another file's. Such a listing is not
 * read at all ({@linkcode ListingCut}); the caller asks per file instead.
 *
 * @example
 * ```ts
 * import { parseMlsd } from "./listing.ts";
 * parseMlsd("type=file;size=5;modify=20261126153907; a b.txt\r\n").get("a b.txt");
 * // { type: "file", size: 5, mtimeMs: Date.UTC(2026, 10, 26, 15, 39, 7), precision: "second" }
 * ```
 *
 * @module
 */

import { Code } from "./codes.ts";
import { ProtocolError } from "./errors.ts";
import { mdtmFrom, parseFtpTime, utcTime } from "./ftp_time.ts";
import type { Reply } from "./reply.ts";

/** How finely a listed time is known: both sides are compared truncated to it. */
export type Precision = "second" | "minute" | "day";

export type EntryType = "file" | "dir" | "link" | "other";

/** One listed name. */
export interface RemoteEntry {
  type: EntryType;
  /** Bytes; absent where the listing gives none (MLSD without a `size` fact). */
  size?: number;
  /** Modification time (UTC epoch ms); absent where the listing's time could not be read. */
  mtimeMs?: number;
  precision: Precision;
}

/** A folder's entries by name (exactly as listed), without `.` and `..`. */
export type Listing = Map<string, RemoteEntry>;

/** Listing text as the data connection delivered it: bytes (decoded as UTF-8) or text. */
export type ListingText = string | Uint8Array;

const DAY_MS = 86_400_000;

/**
 * Reads an MLSD listing: `fact=value;fact=value; name` per line (RFC 3659
 * 7.2: the facts end at the first space, the name is the rest of the line,
 * spaces and semicolons included). Lines that are not MLSD entries, and the
 * `cdir`/`pdir` entries for the folder itself and its parent, are left out.
 */
export function parseMlsd(text: ListingText): Listing {
  const entries: [string, RemoteEntry][] = [];
  for (const line of lines(text)) {
    const space = line.indexOf(" ");
    if (space < 0) continue;
    const facts = factsOf(line.slice(0, space));
    const entry = mlsdEntry(facts);
    if (entry) entries.push([line.slice(space + 1), entry]);
  }
  return collect(entries);
}

/**
 * Reads an MLST reply (RFC 3659 7.2: `250-` ... one line ` facts; path` ...
 * `250 End`), the per-file fallback where a folder cannot be listed.
 * `undefined` for an error reply (no such file) or a reply without an entry.
 */
export function parseMlst(reply: Reply): RemoteEntry | undefined {
  if (reply.code !== Code.FileActionOk) return undefined;
  for (const line of reply.message.split(/\r?\n/).slice(1)) {
    if (!line.startsWith(" ")) continue;
    const space = line.indexOf(" ", 1);
    const entry = mlsdEntry(factsOf(line.slice(1, space < 0 ? undefined : space)));
    if (entry) return entry;
  }
  return undefined;
}

/**
 * The last resort, per file: SIZE and MDTM replies as an entry. `undefined`
 * when SIZE says there is no such file (or it is a folder: SIZE fails too).
 */
export function entryFromSizeMdtm(size: Reply, mdtm: Reply): RemoteEntry | undefined {
  if (size.code !== Code.FileStatus) return undefined;
  const bytes = size.message.slice(4).trim();
  if (!/^\d+$/.test(bytes)) return undefined;
  const mtimeMs = mdtmFrom(mdtm);
  return {
    type: "file",
    size: Number(bytes),
    ...(mtimeMs !== undefined ? { mtimeMs } : {}),
    precision: "second",
  };
}

/**
 * Reads LIST output with basic-ftp's parser and turns each entry's time text
 * into a time. `now` (epoch ms; the server's clock where known) places
 * year-less Unix dates. Throws ProtocolError for a listing in a format the
 * parser does not know (the caller then asks per file).
 */
export async function parseList(text: ListingText, now = Date.now()): Promise<Listing> {
  // Loaded here, not at the top: only runs that read a LIST pay for basic-ftp.
  const { parseList: parseLines } = await import("basic-ftp/dist/parseList.js");
  const joined = lines(text).join("\n");
  let infos;
  try {
    infos = parseLines(joined);
  } catch (e) {
    throw new ProtocolError(
      `unreadable folder listing: ${e instanceof Error ? e.message.split(".")[0] : e}`,
    );
  }
  const entries: [string, RemoteEntry][] = [];
  for (const info of infos) {
    const type: EntryType = info.isFile
      ? "file"
      : info.isDirectory
      ? "dir"
      : info.isSymbolicLink
      ? "link"
      : "other";
    // basic-ftp parses MLSD-looking lines itself and then sets modifiedAt.
    const time = info.modifiedAt
      ? { mtimeMs: info.modifiedAt.getTime(), precision: "second" as const }
      : listTime(info.rawModifiedAt, now);
    entries.push([info.name, {
      type,
      ...(Number.isFinite(info.size) && info.size >= 0 ? { size: info.size } : {}),
      ...time,
    }]);
  }
  return collect(entries);
}

/**
 * A LIST entry's time text (basic-ftp's `rawModifiedAt`) as a UTC time and
 * its precision; `{ precision: "minute" }` alone when it cannot be read.
 * Unix: `Nov 26 15:39`, `Nov 26 2025`, `26 Nov 15:39`, `2026-11-26 15:39`,
 * `11月 26日 15:39`. DOS/IIS: `11-26-26 03:39PM`, `11-26-2026 15:39`.
 */
export function listTime(raw: string, now: number): { mtimeMs?: number; precision: Precision } {
  const text = raw.trim().replace(/\s+/g, " ");
  const unknown = { precision: "minute" as const };
  let m = /^(\d{1,2})-(\d{1,2})-(\d{2}|\d{4}) (\d{1,2}):(\d{2})(?::\d{2})? ?([AaPp][Mm])?$/.exec(
    text,
  );
  if (m) {
    // DOS/IIS: MM-DD-YY[YY], 12- or 24-hour clock. Two-digit years: 70-99 = 19xx, else 20xx.
    const year = m[3].length === 4
      ? Number(m[3])
      : Number(m[3]) + (Number(m[3]) >= 70 ? 1900 : 2000);
    const hour = twelveHour(Number(m[4]), m[6]);
    if (hour === undefined) return unknown;
    return timed(utcTime(year, Number(m[1]), Number(m[2]), hour, Number(m[5])), "minute");
  }
  m = /^(\d{4})[-/](\d{1,2})[-/](\d{1,2}) (\d{1,2}):(\d{2})$/.exec(text);
  if (m) {
    const [year, month, day, hour, minute] = m.slice(1).map(Number);
    if (hour > 23 || minute > 59) return unknown;
    return timed(utcTime(year, month, day, hour, minute), "minute");
  }
  // Unix: month and day in either order (or Japanese 11月 26日), then a time or a year.
  m = UNIX_DATE.exec(text);
  if (!m) return unknown;
  const month = m[5] ? Number(m[5]) : monthNumber(m[1] ?? m[4]);
  const day = Number(m[2] ?? m[3] ?? m[6]);
  if (month === undefined) return unknown;
  if (m[9]) return timed(utcTime(Number(m[9]), month, day), "day");
  const hour = Number(m[7]);
  const minute = Number(m[8]);
  if (hour > 23 || minute > 59) return unknown;
  return timed(recentDate(month, day, hour, minute, now), "minute");
}

/**
 * A year-less Unix listing date: `ls` and the servers show the time instead
 * of the year for files changed within the last six months, so the date is
 * the latest one with this month and day that is not after `now` (a day of
 * slack for a server clock or zone ahead of ours).
 */
function recentDate(
  month: number,
  day: number,
  hour: number,
  minute: number,
  now: number,
): number | undefined {
  const thisYear = new Date(now).getUTCFullYear();
  // 29 February: back to the last year that had one (within the eight years that always do).
  for (let year = thisYear + 1; year >= thisYear - 8; year--) {
    const t = utcTime(year, month, day, hour, minute);
    if (t !== undefined && t <= now + DAY_MS) return t;
  }
  return undefined;
}

/** `Nov 26`, `26 Nov` or `11月 26日`, then `15:39` or `2025` (`2025年`). */
const UNIX_DATE = new RegExp(
  String.raw`^(?:(\p{L}{3}) (\d{1,2})|(\d{1,2}) (\p{L}{3})|(\d{1,2})月 (\d{1,2})日) ` +
    String.raw`(?:(\d{1,2}):(\d{2})|(\d{4})年?)$`,
  "u",
);

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];

function monthNumber(name: string): number | undefined {
  const i = MONTHS.indexOf(name.toLowerCase());
  return i < 0 ? undefined : i + 1;
}

function twelveHour(hour: number, half: string | undefined): number | undefined {
  if (!half) return hour <= 23 ? hour : undefined;
  if (hour < 1 || hour > 12) return undefined;
  return (hour % 12) + (half.toUpperCase() === "PM" ? 12 : 0);
}

function timed(mtimeMs: number | undefined, precision: Precision) {
  return mtimeMs === undefined ? { precision } : { mtimeMs, precision };
}

/** MLSD facts, names lower-cased (RFC 3659: fact names are case-insensitive). */
function factsOf(text: string): Map<string, string> {
  const facts = new Map<string, string>();
  for (const fact of text.split(";")) {
    const eq = fact.indexOf("=");
    if (eq > 0) facts.set(fact.slice(0, eq).toLowerCase(), fact.slice(eq + 1));
  }
  return facts;
}

function mlsdEntry(facts: Map<string, string>): RemoteEntry | undefined {
  const kind = facts.get("type")?.toLowerCase();
  if (kind === undefined || kind === "cdir" || kind === "pdir") return undefined;
  // `OS.unix=slink:/target` (proftpd), `OS.unix=symlink` (others): the RFC leaves OS types open.
  const type: EntryType = kind === "file"
    ? "file"
    : kind === "dir"
    ? "dir"
    : kind.startsWith("os.") && kind.includes("link")
    ? "link"
    : "other";
  const size = facts.get("size") ?? "";
  const mtimeMs = parseFtpTime(facts.get("modify") ?? "");
  return {
    type,
    ...(/^\d+$/.test(size) ? { size: Number(size) } : {}),
    ...(mtimeMs !== undefined ? { mtimeMs } : {}),
    precision: "second",
  };
}

/** A listing that ended mid-line: it cannot be trusted (see the module note). */
export class ListingCut extends ProtocolError {
  constructor() {
    super("folder listing cut off in the middle of a line");
    this.name = "ListingCut";
  }
}

/** Non-blank lines of a listing, bytes decoded as UTF-8; ListingCut when the last line has no end. */
function lines(text: ListingText): string[] {
  const decoded = typeof text === "string" ? text : new TextDecoder().decode(text);
  if (decoded !== "" && !decoded.endsWith("\n")) throw new ListingCut();
  return decoded.split(/\r?\n/).filter((l) => l.trim() !== "");
}

/** Names as listed; `.`/`..` dropped; a name listed twice dropped (which one is meant is unknown). */
function collect(entries: [string, RemoteEntry][]): Listing {
  const listing: Listing = new Map();
  const clashing = new Set<string>();
  for (const [name, entry] of entries) {
    if (name === "" || name === "." || name === ".." || name.includes("/")) continue;
    if (listing.has(name) || clashing.has(name)) {
      listing.delete(name);
      clashing.add(name);
      continue;
    }
    listing.set(name, entry);
  }
  return listing;
}
