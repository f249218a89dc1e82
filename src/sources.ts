/**
 * Checks every local source before the run: open it for reading and record
 * size and mtime. A missing or unreadable source is reported, not fatal.
 *
 * @module
 */

import type { CheckedSource } from "./plan.ts";
import type { FileEntry } from "./types.ts";

/** Checks sources with a few opens in flight at once; keeps config order. */
export async function checkSources(
  entries: FileEntry[],
  concurrency = 32,
): Promise<CheckedSource[]> {
  const out = new Array<CheckedSource>(entries.length);
  let next = 0;
  const lane = async () => {
    while (next < entries.length) {
      const i = next++;
      out[i] = await checkOne(entries[i]);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return out;
}

async function checkOne(entry: FileEntry): Promise<CheckedSource> {
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(entry.source, { read: true });
    const info = await file.stat();
    if (!info.isFile) {
      return { entry, ok: false, reason: "not a regular file" };
    }
    return {
      entry,
      ok: true,
      size: info.size,
      mtimeMs: info.mtime?.getTime() ?? 0,
    };
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
