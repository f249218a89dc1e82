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

import * as posix from "../ftp/posix_path.ts";

/** Marks names this tool creates, so they can be recognised and cleaned up. */
export const TEMP_MARK = ".ftpbatch-";

export function fingerprint(size: number, mtimeMs: number): string {
  return `${size.toString(36)}-${Math.floor(mtimeMs).toString(36)}`;
}

/** Longest file name most file systems take (ext4, XFS, btrfs, NTFS: 255 bytes of UTF-8). */
export const MAX_NAME_BYTES = 255;

const encoder = new TextEncoder();

/**
 * Hidden sibling of `destination` named after the local file's fingerprint.
 * A name that would pass {@linkcode MAX_NAME_BYTES} keeps a shortened stem
 * plus a hash of the whole name, so two long names sharing a prefix still
 * get different temporary files.
 */
export function tempPathFor(
  destination: string,
  size: number,
  mtimeMs: number,
): string {
  const dir = posix.dirname(destination);
  const base = posix.basename(destination);
  const tail = `${TEMP_MARK}${fingerprint(size, mtimeMs)}.part`;
  let stem = base;
  if (1 + utf8Length(base) + tail.length > MAX_NAME_BYTES) {
    const mark = `~${nameHash(base)}`;
    stem = utf8Prefix(base, MAX_NAME_BYTES - 1 - mark.length - tail.length) + mark;
  }
  return posix.join(dir, `.${stem}${tail}`);
}

function utf8Length(text: string): number {
  return encoder.encode(text).length;
}

/** The longest prefix of `text` within `bytes` bytes of UTF-8, never splitting a character. */
function utf8Prefix(text: string, bytes: number): string {
  let used = 0;
  let end = 0;
  for (const ch of text) {
    const n = utf8Length(ch);
    if (used + n > bytes) break;
    used += n;
    end += ch.length;
  }
  return text.slice(0, end);
}

/** FNV-1a (32 bit) of the name's UTF-8, base 36: short, stable, sync. */
function nameHash(text: string): string {
  let h = 0x811c9dc5;
  for (const b of encoder.encode(text)) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h.toString(36);
}
