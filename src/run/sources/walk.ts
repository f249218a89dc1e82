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
 * A glob ending in "/" names a folder: `exclude: ["sub/"]` leaves `sub` out,
 * `include: ["sub/"]` takes everything below it. Include globs that matched
 * no file are said at the end of the walk (a typo otherwise uploads nothing,
 * silently).
 *
 * Names that cannot be sent as themselves (CR/LF, not UTF-8, two names
 * reaching one destination: `plan/local_names.ts`) come out `refused`, with
 * the reason, before any connection is spent on them.
 *
 * Symlinks are skipped and yielded as such unless `followSymlinks`, then they
 * are followed: a link back to a folder on its own path is a loop, and a
 * folder reached through links is walked once (by device and inode), so 13
 * folders each with two links to the next give 13 folders' files, not 8,191.
 * A real folder is always walked where it is; a file link is a file.
 *
 * @module
 */

import { join } from "node:path";
import { compileGlob } from "../../config/tree.ts";
import type { TreeOptions } from "../../config/types.ts";
import { checkNames, NOT_UTF8 } from "../../plan/local_names.ts";
import { type CheckedFile, localReason } from "./sources.ts";
import { StatAhead, type StatAheadOptions } from "./stat_ahead.ts";

/** What the walk meets, `rel` being the path below the folder ("a/b.txt"). */
export type WalkItem =
  | { kind: "file"; rel: string; path: string; checked: CheckedFile }
  /** A folder with nothing in it at all (not one whose files were filtered out). */
  | { kind: "emptyDir"; rel: string }
  /**
   * A symlink not followed (`followSymlinks` false); with `loop`, a link back
   * to a folder above it; with `again`, a folder already walked through the
   * link at `again`.
   */
  | { kind: "symlink"; rel: string; loop?: true; again?: string }
  /** A folder that could not be read: its files are not known. */
  | { kind: "unreadable"; rel: string; reason: string }
  /** A file or folder whose name cannot be sent as itself: fails at once, with `reason`. */
  | { kind: "refused"; rel: string; path: string; reason: string; size: number }
  /** At the end of the walk: indexes of `include` globs that matched no file. */
  | { kind: "unmatched"; include: number[] };

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

/** The walk's filters, compiled. */
class Filters {
  readonly #include: ((rel: string) => boolean)[];
  readonly #exclude: ((rel: string) => boolean)[];
  /** Per include glob: did it match a file? */
  readonly hits: boolean[];

  constructor(options: Pick<TreeOptions, "include" | "exclude">) {
    // "sub/" in include: everything below sub.
    this.#include = options.include.map((g) => compileGlob(g.endsWith("/") ? `${g}**` : g));
    this.#exclude = options.exclude.map(compileGlob);
    this.hits = options.include.map(() => false);
  }

  /** A folder is tested as "sub" and "sub/", so "sub/" excludes it. */
  excluded(rel: string, isDir: boolean): boolean {
    if (this.#exclude.length === 0) return false;
    return this.#exclude.some((m) => m(rel) || (isDir && m(`${rel}/`)));
  }

  /** Whether a file is taken; counts which globs matched. */
  included(rel: string): boolean {
    if (this.#include.length === 0) return true;
    let any = false;
    this.#include.forEach((m, k) => {
      if (m(rel)) any = this.hits[k] = true;
    });
    return any;
  }

  /** An empty folder is created only when include takes it (without counting a hit). */
  includesFolder(rel: string): boolean {
    return this.#include.length === 0 || this.#include.some((m) => m(rel));
  }
}

/** Walks `root` (a folder) with `options`. */
export function* walkTree(
  root: string,
  options: Pick<TreeOptions, "include" | "exclude" | "followSymlinks">,
  hook?: WalkHook,
  /** When a stat worker helps (`stat_ahead.ts`); `{ startAfter: Infinity }`: never. */
  statOptions?: StatAheadOptions,
): Generator<WalkItem> {
  const filters = new Filters(options);
  const emit = (item: WalkItem) => (hook?.(item), item);
  /** Folders walked through a link (followSymlinks): identity → the first link's path. */
  const linked = new Map<string, string>();
  const stack: Pending[] = [{
    rel: "",
    path: root,
    above: options.followSymlinks ? chainOf(root) : undefined,
  }];
  const stats = new StatAhead(statOptions);
  try {
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
        if (filters.includesFolder(dir.rel)) yield emit({ kind: "emptyDir", rel: dir.rel });
        continue;
      }
      const { items, files, subdirs } = sortFolder(dir, names, filters, options, linked);
      const check = stats.folder(files.map((f) => f.path));
      for (const item of items) {
        if (typeof item !== "number") {
          yield emit(item);
          continue;
        }
        const { rel, path } = files[item];
        yield emit({ kind: "file", rel, path, checked: check(item) });
      }
      // Reversed onto the stack: the first folder by name is walked next.
      for (let i = subdirs.length - 1; i >= 0; i--) stack.push(subdirs[i]);
    }
  } finally {
    stats.close(); // the walk is over, or its consumer stopped it
  }
  const unmatched = filters.hits.flatMap((hit, k) => hit ? [] : [k]);
  if (unmatched.length > 0) yield emit({ kind: "unmatched", include: unmatched });
}

/** One folder's entries, filtered, in name order. */
interface SortedFolder {
  /** What to yield, in order; a number is `files[n]`, yielded once its check is in. */
  items: (WalkItem | number)[];
  /** The files to check (`stat`), in order. */
  files: { rel: string; path: string }[];
  /** The folders below to walk. */
  subdirs: Pending[];
}

/** Sorts, filters and names one folder's entries (`names`, as read). */
function sortFolder(
  dir: Pending,
  names: Deno.DirEntry[],
  filters: Filters,
  options: Pick<TreeOptions, "followSymlinks">,
  linked: Map<string, string>,
): SortedFolder {
  names.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const refused = refusedNames(dir.path, names.map((e) => e.name));
  const out: SortedFolder = { items: [], files: [], subdirs: [] };
  // A name from readDir has no "/" or "." parts: no need for join's normalizing (1M calls).
  const prefix = dir.path.endsWith("/") ? dir.path : `${dir.path}/`;
  for (const e of names) {
    const rel = dir.rel ? `${dir.rel}/${e.name}` : e.name;
    const path = prefix + e.name;
    let isDir = e.isDirectory;
    if (e.isSymlink && options.followSymlinks) isDir = isFolder(path);
    if (filters.excluded(rel, isDir)) continue;
    const reason = refused.size === 0 ? undefined : refused.get(e.name);
    if (reason !== undefined) {
      if (isDir || filters.included(rel)) {
        const what = isDir ? `folder ${reason}; nothing below it was sent` : reason;
        out.items.push({
          kind: "refused",
          rel,
          path,
          reason: what,
          size: isDir ? 0 : sizeOf(path),
        });
      }
    } else if (e.isSymlink && !options.followSymlinks) {
      out.items.push({ kind: "symlink", rel });
    } else if (isDir) {
      const next = follow(dir, rel, path, e.isSymlink, linked);
      if ("kind" in next) out.items.push(next);
      else out.subdirs.push(next);
    } else if (filters.included(rel)) {
      out.items.push(out.files.length);
      out.files.push({ rel, path });
    }
  }
  return out;
}

/**
 * The folder to walk next, or why not: a link back to a folder above is a
 * loop, and a folder already walked through a link is not walked again.
 */
function follow(
  dir: Pending,
  rel: string,
  path: string,
  viaLink: boolean,
  linked: Map<string, string>,
): Pending | WalkItem & { kind: "symlink" } {
  if (!dir.above) return { rel, path };
  const key = identity(path);
  if (key === undefined) return { rel, path, above: dir.above };
  if (onChain(dir.above, key)) return { kind: "symlink", rel, loop: true };
  if (viaLink) {
    const first = linked.get(key);
    if (first !== undefined) return { kind: "symlink", rel, again: first };
    linked.set(key, rel);
  }
  return { rel, path, above: { key, up: dir.above } };
}

/**
 * The names of one folder that cannot be sent as themselves. A name with
 * U+FFFD that is the only one reading so is real only if a file by that exact
 * name exists (a lossy decode of bad bytes names nothing).
 */
function refusedNames(dir: string, names: string[]): Map<string, string> {
  const { refused, suspect } = checkNames(names);
  for (const name of suspect) {
    try {
      Deno.lstatSync(join(dir, name));
    } catch (e) {
      if (e instanceof Deno.errors.NotFound) refused.set(name, NOT_UTF8);
    }
  }
  return refused;
}

function isFolder(path: string): boolean {
  try {
    return Deno.statSync(path).isDirectory;
  } catch {
    return false; // a dangling link: checkFile says why
  }
}

function sizeOf(path: string): number {
  try {
    return Deno.statSync(path).size;
  } catch {
    return 0;
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
