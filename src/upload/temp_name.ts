/**
 * Temporary remote names for atomic uploads.
 *
 * The name carries a fingerprint of the local file (size and mtime), so a
 * later run resumes a leftover temporary file only when it belongs to the
 * same local content; a changed local file gets a different name and starts
 * over.
 *
 * @example
 * ```ts
 * import { tempPathFor } from "./temp_name.ts";
 * tempPathFor("/a/План.txt", 1234, 1700000000000);
 * // "/a/.План.txt.ftpbatch-ya-loyw3v28.part"
 * ```
 *
 * @module
 */

import { posix } from "node:path";

/** Marks names this tool creates, so they can be recognised and cleaned up. */
export const TEMP_MARK = ".ftpbatch-";

export function fingerprint(size: number, mtimeMs: number): string {
  return `${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}`;
}

/** Hidden sibling of `destination` named after the local file's fingerprint. */
export function tempPathFor(
  destination: string,
  size: number,
  mtimeMs: number,
): string {
  const dir = posix.dirname(destination);
  const base = posix.basename(destination);
  return posix.join(
    dir,
    `.${base}${TEMP_MARK}${fingerprint(size, mtimeMs)}.part`,
  );
}
