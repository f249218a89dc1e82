/**
 * Setting a remote file's modification time, so the next run can compare
 * size and time. There is no standard command; which one a server takes is
 * learned from FEAT and from its replies, never from its name:
 *
 * - `MFMT YYYYMMDDHHMMSS path` (draft-somers-ftp-mfxx): pure-ftpd, proftpd
 *   (mod_facts), pyftpdlib; listed in FEAT as `MFMT`.
 * - `MDTM YYYYMMDDHHMMSS path`: vsftpd with `mdtm_write=YES` (its default);
 *   vsftpd's FEAT lists MDTM but neither MFMT nor MLST. On a server whose
 *   MDTM only reads, the same line asks for the time of a file named
 *   "YYYYMMDDHHMMSS path": a 550, or a `213 <time>` that is an answer, not
 *   a success, and is judged so.
 * - `SITE UTIME YYYYMMDDHHMMSS path`: proftpd mod_site_misc.
 * - `SITE UTIME path atime mtime ctime UTC`: pure-ftpd, proftpd mod_site_misc.
 *
 * A reply of 500, 501, 502 or 504 rules a command out for the connection. A
 * command that has worked once is the one used from then on, and its other
 * failures (550: no such file, no permission) fail only that file. A command
 * that has never worked and fails for three files is ruled out too, so a
 * server that can set no time costs a few round trips, not some per file.
 * On a probe file (one this client just created, empty, to learn before any
 * upload whether times can be set) any failure rules a command out at once.
 *
 * @module
 */

import { Code } from "./codes.ts";
import { formatFtpTime, parseFtpTime } from "./ftp_time.ts";
import type { Reply } from "./reply.ts";
import { safeText } from "./server_text.ts";

/** The command forms this client knows. */
export type TimeCommand = "MFMT" | "MDTM" | "SITE UTIME mtime path" | "SITE UTIME path UTC";

/** What is known of one command on this server. */
export type CommandState = "untried" | "works" | "ruled out";

/** What was learned so far; plain data, so a run can hand it to its next connections. */
export interface TimeSetting {
  /** The commands in the order they are tried, with what is known of each. */
  commands: { command: TimeCommand; state: CommandState; misses: number }[];
}

/** The outcome for one file. */
export type SetTimeResult =
  | { outcome: "set"; command: TimeCommand }
  /** This file's time could not be set (the server can set times: the reply says why not). */
  | { outcome: "failed"; error: string }
  /** The server takes none of the commands; nothing was changed. */
  | { outcome: "unsupported" };

/** Replies that mean "no such command" or "not in this form". */
const REFUSED = [
  Code.SyntaxError,
  Code.SyntaxErrorInArguments,
  Code.NotImplemented,
  Code.NotImplementedForParameter,
];
/** Files a never-working command may fail before it is ruled out. */
const MAX_MISSES = 3;

/**
 * The order to try the commands in: those FEAT lists first (MFMT, then
 * vsftpd's MDTM), then the SITE UTIME forms, then MFMT where FEAT is silent
 * about it (FEAT lists are not always complete).
 */
export function timeSettingFor(features: ReadonlyMap<string, string>): TimeSetting {
  const order: TimeCommand[] = [];
  if (features.has("MFMT")) order.push("MFMT");
  if (features.has("MDTM")) order.push("MDTM");
  order.push("SITE UTIME mtime path", "SITE UTIME path UTC");
  if (!features.has("MFMT")) order.push("MFMT");
  return { commands: order.map((command) => ({ command, state: "untried", misses: 0 })) };
}

/** True once every command is ruled out: the server cannot set modification times. */
export function cannotSetTimes(setting: TimeSetting): boolean {
  return setting.commands.every((c) => c.state === "ruled out");
}

/** The command line that sets `path`'s modification time to `mtimeMs` (whole seconds, UTC). */
export function timeCommandLine(command: TimeCommand, path: string, mtimeMs: number): string {
  const t = formatFtpTime(mtimeMs);
  switch (command) {
    case "MFMT":
      return `MFMT ${t} ${path}`;
    case "MDTM":
      return `MDTM ${t} ${path}`;
    case "SITE UTIME mtime path":
      return `SITE UTIME ${t} ${path}`;
    case "SITE UTIME path UTC":
      return `SITE UTIME ${path} ${t} ${t} ${t} UTC`;
  }
}

/**
 * The line that sets `path`'s time with the command that has worked on this
 * server, or `undefined` while none has: once one works, the line can go out
 * in one write with the commands after it (the rename), its reply handed to
 * {@linkcode setRemoteTime} as the answer of its one `send`.
 */
export function knownTimeLine(
  setting: TimeSetting,
  path: string,
  mtimeMs: number,
): string | undefined {
  const known = setting.commands.find((c) => c.state === "works");
  return known && timeCommandLine(known.command, path, mtimeMs);
}

/**
 * Sets `path`'s modification time with the first command the server takes,
 * updating `setting` with what the replies teach. `send` sends one command
 * line and returns its reply (error replies returned, not thrown).
 */
export async function setRemoteTime(
  setting: TimeSetting,
  send: (line: string) => Promise<Reply>,
  path: string,
  mtimeMs: number,
  opts: { probe?: boolean } = {},
): Promise<SetTimeResult> {
  const known = setting.commands.find((c) => c.state === "works");
  let lastError: string | undefined;
  for (const c of known ? [known] : setting.commands) {
    if (c.state === "ruled out") continue;
    const reply = await send(timeCommandLine(c.command, path, mtimeMs));
    const verdict = judge(c.command, reply);
    if (verdict === "set") {
      c.state = "works";
      c.misses = 0;
      return { outcome: "set", command: c.command };
    }
    if (verdict === "refused") {
      c.state = "ruled out";
      continue;
    }
    lastError = `${c.command}: ${safeText(reply.message)}`;
    if (c.state === "works") return { outcome: "failed", error: lastError };
    // A probe file was just created by this client: any failure on it rules the command out.
    if (++c.misses >= MAX_MISSES || opts.probe) c.state = "ruled out";
  }
  // A working command that was just ruled out (500) may leave others to try next time.
  if (cannotSetTimes(setting)) return { outcome: "unsupported" };
  return { outcome: "failed", error: lastError ?? "no command to set the time" };
}

function judge(command: TimeCommand, reply: Reply): "set" | "refused" | "failed" {
  if ((REFUSED as number[]).includes(reply.code)) return "refused";
  // 2xx only: a 1xx or 3xx would leave the server waiting for more.
  if (reply.code < 200 || reply.code >= 300) return "failed";
  // vsftpd says "213 File modification time set."; "213 20261126153907" is MDTM reading a
  // file's time: this server's MDTM does not set times.
  if (command === "MDTM") {
    if (reply.code !== Code.FileStatus) return "failed";
    if (parseFtpTime(reply.message.slice(4)) !== undefined) return "refused";
  }
  return "set";
}
