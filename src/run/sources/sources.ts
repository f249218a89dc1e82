/**
 * Checks every local source before the run: open it for reading and record
 * size and mtime. A missing or unreadable source is reported, not fatal.
 *
 * @module
 */

import type { CheckedSource } from "../../plan/plan.ts";
import type { FileEntry } from "../../config/types.ts";

/**
 * Checks sources in config order. Synchronous `stat` on purpose: for many
 * small local checks it costs a fraction of async calls or of opening each
 * file (100,000 files: about 0.3 s against 0.7 s to 2 s). Readability comes
 * from the mode bits; only a file they call unreadable is opened to be sure
 * (supplementary groups are not visible to Deno).
 */
export function checkSources(entries: FileEntry[]): (CheckedSource & LocalIdentity)[] {
  return entries.map((entry) => ({ entry, ...checkFile(entry.source) }));
}

/** The reason given for a source that is a folder (the coordinator walks it instead). */
export const IS_FOLDER = "is a folder";

/** One local file as checked: size and times, or why it cannot be sent. */
export type CheckedFile =
  | ({ ok: true; size: number; mtimeMs: number } & LocalIdentity)
  | { ok: false; reason: string };

let ids: { uid: number | null; gid: number | null } | undefined;

/** Checks one local file (see `checkSources`); a folder is `IS_FOLDER`. */
export function checkFile(path: string): CheckedFile {
  const { uid, gid } = processIds();
  return checkOne(path, uid, gid);
}

/** This process's uid and gid (null where not known), asked once. */
export function processIds(): { uid: number | null; gid: number | null } {
  return ids ??= { uid: ask(() => Deno.uid()), gid: ask(() => Deno.gid()) };
}

/** Inode and change time of a source as checked; absent where the platform has none. */
export interface LocalIdentity {
  ino?: number;
  ctimeMs?: number;
}

function checkOne(path: string, uid: number | null, gid: number | null): CheckedFile {
  try {
    const info = Deno.statSync(path);
    if (info.isDirectory) return { ok: false, reason: IS_FOLDER };
    if (!info.isFile) return { ok: false, reason: "not a regular file" };
    if (!readableByMode(info, uid, gid)) Deno.openSync(path, { read: true }).close();
    const checked = {
      ok: true as const,
      size: info.size,
      mtimeMs: info.mtime?.getTime() ?? 0,
    };
    // Inode and change time, where the platform gives them: the uploader tells a rewrite in
    // place (same size, mtime set back) from the file seen here.
    return Object.assign(checked, {
      ...(info.ino !== null ? { ino: info.ino } : {}),
      ...(info.ctime ? { ctimeMs: info.ctime.getTime() } : {}),
    });
  } catch (e) {
    return { ok: false, reason: localReason(e, "no such file") };
  }
}

/** Why a local file or folder could not be read, in the report's words (`missing` for not found). */
export function localReason(e: unknown, missing: string): string {
  return e instanceof Deno.errors.NotFound
    ? missing
    : e instanceof Deno.errors.PermissionDenied
    ? "permission denied"
    : e instanceof Error
    ? e.message
    : String(e);
}

/** Whether the mode bits let this process read the file (see `checkSources`). */
export function readableByMode(
  info: Deno.FileInfo,
  uid: number | null,
  gid: number | null,
): boolean {
  if (uid === 0) return true;
  const mode = info.mode;
  if (mode === null || uid === null) return false;
  if (info.uid === uid) return (mode & 0o400) !== 0;
  if (info.gid === gid) return (mode & 0o040) !== 0;
  return (mode & 0o004) !== 0;
}

/** uid/gid need `--allow-sys=uid,gid`; without it every source is opened instead. */
function ask(get: () => number | null): number | null {
  try {
    return get();
  } catch {
    return null;
  }
}
