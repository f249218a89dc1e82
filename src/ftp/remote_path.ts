/**
 * Pure helpers for remote paths. FTP paths are POSIX whatever the local OS,
 * so everything here uses `posix` from `node:path`.
 *
 * @module
 */

import { basename, posix } from "node:path";

/**
 * Turns a config `destination` into the remote file path: NFC-normalized,
 * a trailing "/" means "into this folder, keeping the source's file name",
 * duplicate slashes and "." segments collapsed, always absolute.
 *
 * It does not reject ".." segments or folder-only destinations such as "/";
 * config validation does that before calling it.
 *
 * @example
 * ```ts
 * normalizeDestination("/incoming//img/", "img/photo 1.jpg"); // "/incoming/img/photo 1.jpg"
 * normalizeDestination("/a/./b.txt", "x.txt"); // "/a/b.txt"
 * ```
 */
export function normalizeDestination(
  destination: string,
  sourcePath: string,
): string {
  // The source is a local path, so its base name uses the local OS rules.
  const full = destination.endsWith("/") ? destination + basename(sourcePath) : destination;
  // NFC last, so the appended local name (often NFD on macOS) is covered too.
  return posix.join("/", full).normalize("NFC");
}

/**
 * Every ancestor folder of a remote path except "/", outermost first: the
 * folders to create, in order, before uploading to `path`.
 *
 * @example
 * ```ts
 * parentDirs("/incoming/docs/a.txt"); // ["/incoming", "/incoming/docs"]
 * parentDirs("/a.txt"); // []
 * ```
 */
export function parentDirs(path: string): string[] {
  if (
    !path.includes("//") && !path.includes("/.") && !path.endsWith("/") && !path.startsWith(".")
  ) {
    // Already normalized (the usual case, once per file of a run): the prefix at each "/".
    const fast: string[] = [];
    for (let i = path.indexOf("/", 1); i > 0; i = path.indexOf("/", i + 1)) {
      fast.push(path.slice(0, i));
    }
    return fast;
  }
  const dirs: string[] = [];
  for (
    let dir = posix.dirname(posix.normalize(path));
    dir !== "/" && dir !== ".";
    dir = posix.dirname(dir)
  ) {
    dirs.unshift(dir);
  }
  return dirs;
}
