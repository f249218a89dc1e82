/**
 * The embedded server's own replies to commands ftp-srv lacks or answers
 * unlike real servers: FEAT, SIZE, XSHA256, and DELE/RMD of the wrong kind.
 *
 * @module
 */
import { type Connection, fsPathOf } from "./internals.ts";
import type { Faults } from "./test_hooks.ts";

/** The FEAT reply: what this server offers under `faults`. */
export function featReply(conn: Connection, faults: Faults, byteNames: boolean) {
  const feats = ["EPSV", "MDTM", ...faults.refuseSetTime ? [] : ["MFMT"]];
  feats.push(...faults.refuseRest ? [] : ["REST STREAM"], "SIZE");
  if (!byteNames) feats.push("UTF8");
  if (faults.offerHash) feats.push("XSHA256");
  return conn.reply(
    211,
    "Extensions supported",
    ...feats.map((f) => ({ message: ` ${f}`, raw: true })),
    "End",
  );
}

/**
 * ftp-srv's DELE and RMD both remove whatever is there (RMD deletes a file, DELE an
 * empty folder); vsftpd and pure-ftpd refuse the wrong kind, and so does this server.
 * The refusal, or `undefined` to let ftp-srv go on.
 */
export async function refuseWrongKind(conn: Connection, directive: string, arg: string) {
  const info = await Deno.stat(fsPathOf(conn, arg)).catch(() => undefined);
  if (info && directive === "DELE" && info.isDirectory) {
    return conn.reply(550, "Is a folder; use RMD");
  }
  if (info && directive !== "DELE" && !info.isDirectory) {
    return conn.reply(550, "Not a folder; use DELE");
  }
  return undefined;
}

/** SIZE: ftp-srv answers "213 File status" for an empty file (its size 0 is falsy there). */
export async function sizeReply(conn: Connection, arg: string) {
  try {
    const info = await Deno.stat(fsPathOf(conn, arg));
    if (!info.isFile) return conn.reply(550, "Not a regular file");
    return conn.reply(213, String(info.size));
  } catch {
    return conn.reply(550, "No such file");
  }
}

/** XSHA256 (offered with `faults.offerHash`): the file's SHA-256 in hex. */
export async function sha256Reply(conn: Connection, arg: string) {
  try {
    const bytes = await Deno.readFile(fsPathOf(conn, arg));
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    const hex = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"));
    return conn.reply(213, hex.join(""));
  } catch {
    return conn.reply(550, "No such file");
  }
}
