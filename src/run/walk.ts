/**
 * Walks a folder source lazily: a generator that reads one local folder at
 * a time (names sorted, so runs are repeatable), so memory holds the folders
 * still to visit, never the whole tree, and the first file is yielded before
 * the last folder is read. Synchronous on purpose: a folder is read in one
 * call and each file checked with one `stat`, and an async iterator's
 * promise per entry cost more than the I/O itself (a million files).
 *
 * Filters (`include`/`exclude`, picomatch globs on the path relative to the
 * folder, POSIX separators): exclude wins; an excluded folder is not entered.
 * Symlinks are skipped and yielded as such unless `followSymlinks`, then they
 * are followed, with a link back to a folder on its own path (a loop) skipped.
 *
 * @module
 */

import { compileGlob } from "../config/tree.ts";
import type { TreeOptions } from "../config/types.ts";
import { type CheckedFile, checkFile, localReason } from "./sources.ts";

/** What the walk meets, `rel` being the path below the folder ("a/b.txt"). */
export type WalkItem =
  | { kind: "file"; rel: string; path: string; checked: CheckedFile }
  /** A folder with nothing in it at all (not one whose files were filtered out). */
  | { kind: "emptyDir"; rel: string }
  /** A symlink not followed (`followSymlinks` false), or a loop not followed again. */
  | { kind: "symlink"; rel: string; loop?: true }
  /** A folder that could not be read: its files are not known. */
  | { kind: "unreadable"; rel: string; reason: string };

/** Test hook: called with each item just before it is yielded (a streaming test counts them). */
export type WalkHook = (item: WalkItem) => void;

interface Pending {
  rel: string;
  path: string;
  /** Identity chain of the folders above (followSymlinks only): loop protection. */
  above?: Chain;
}

interface Chain {
  key: string;
  up?: Chain;
}

/** Walks `root` (a folder) with `options`. */
export function* walkTree(
  root: string,
  options: Pick<TreeOptions, "include" | "exclude" | "followSymlinks">,
  hook?: WalkHook,
): Generator<WalkItem> {
  const include = options.include.map(compileGlob);
  const exclude = options.exclude.map(compileGlob);
  const excluded = (rel: string) => exclude.some((m) => m(rel));
  const included = (rel: string) => include.length === 0 || include.some((m) => m(rel));
  const emit = (item: WalkItem) => (hook?.(item), item);
  const stack: Pending[] = [{
    rel: "",
    path: root,
    above: options.followSymlinks ? chainOf(root) : undefined,
  }];
  while (stack.length > 0) {
    const dir = stack.pop()!;
    let names: Deno.DirEntry[];
    try {
      names = [...Deno.readDirSync(dir.path)];
    } catch (e) {
      yield emit({ kind: "unreadable", rel: dir.rel, reason: localReason(e, "no such folder") });
      continue;
    }
    if (names.length === 0 && dir.rel !== "") {
      if (included(dir.rel)) yield emit({ kind: "emptyDir", rel: dir.rel });
      continue;
    }
    names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const subdirs: Pending[] = [];
    for (const e of names) {
      const rel = dir.rel ? `${dir.rel}/${e.name}` : e.name;
      // A name from readDir has no "/" or "." parts: no need for join's normalizing (1M calls).
      const path = dir.path.endsWith("/") ? dir.path + e.name : `${dir.path}/${e.name}`;
      if (excluded(rel)) continue;
      let isDir = e.isDirectory;
      let above = dir.above;
      if (e.isSymlink) {
        if (!options.followSymlinks) {
          yield emit({ kind: "symlink", rel });
          continue;
        }
        try {
          isDir = Deno.statSync(path).isDirectory;
        } catch {
          isDir = false; // a dangling link: checkFile says why
        }
      }
      if (isDir) {
        if (above) {
          const key = identity(path);
          if (key && onChain(above, key)) {
            yield emit({ kind: "symlink", rel, loop: true });
            continue;
          }
          above = key ? { key, up: above } : above;
        }
        subdirs.push({ rel, path, above });
        continue;
      }
      if (!included(rel)) continue;
      yield emit({ kind: "file", rel, path, checked: checkFile(path) });
    }
    // Reversed onto the stack: the first folder by name is walked next.
    for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
  }
}

function identity(path: string): string | undefined {
  try {
    const st = Deno.statSync(path);
    return st.dev !== null && st.ino !== null ? `${st.dev}:${st.ino}` : Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

function chainOf(root: string): Chain | undefined {
  const key = identity(root);
  return key ? { key } : undefined;
}

function onChain(chain: Chain | undefined, key: string): boolean {
  for (let c = chain; c; c = c.up) if (c.key === key) return true;
  return false;
}
