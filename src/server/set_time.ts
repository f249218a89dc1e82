/**
 * The embedded server's `MFMT YYYYMMDDHHMMSS path` (draft-somers-ftp-mfxx, as
 * pure-ftpd, proftpd and pyftpdlib take it): sets a file's modification time,
 * so a re-run against it (the demo's, the tests') meets the real skip rule,
 * same size and same time, instead of the rule for servers that cannot set
 * times. ftp-srv has no command that sets a time.
 *
 * @module
 */
import { formatFtpTime, parseFtpTime } from "../ftp/ftp_time.ts";
import { type Connection, fsPathOf } from "./internals.ts";

/** Answers one MFMT: `213 Modify=…; path` once the time is set, 501 or 550 when it cannot be. */
export async function setTime(conn: Connection, arg: string): Promise<unknown> {
  const m = /^(\d{14}(?:\.\d{1,9})?) (.+)$/.exec(arg);
  const mtimeMs = m ? parseFtpTime(m[1]) : undefined;
  if (!m || mtimeMs === undefined) return conn.reply(501, "Usage: MFMT YYYYMMDDHHMMSS path");
  const path = m[2];
  try {
    const file = fsPathOf(conn, path);
    const info = await Deno.stat(file);
    if (!info.isFile) return conn.reply(550, `${path}: not a regular file`);
    await Deno.utime(file, info.atime ?? new Date(), new Date(mtimeMs));
  } catch (err) {
    // Error code only: the message would show the local path.
    return conn.reply(550, `${path}: ${(err as { code?: string }).code ?? "cannot set the time"}`);
  }
  return conn.reply(213, `Modify=${formatFtpTime(mtimeMs)}; ${path}`);
}
