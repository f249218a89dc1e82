/**
 * Validation of a folder entry's own keys: `include` and `exclude` (lists of
 * globs on the path relative to the folder, compiled here so a broken glob is
 * a config error, not a run-time surprise) and `followSymlinks`.
 *
 * Whether a source is a folder is known only when it is looked at: an entry
 * is *declared* a folder by one of these keys or a source ending in "/", and
 * such an entry whose source turns out to be a file is a config error at
 * source-check time (`run/sources/folder_sources.ts`). An entry without them is a
 * folder if its source is one.
 *
 * @module
 */

import type { TreeOptions } from "./types.ts";
import { type Obj, type Reader, text } from "./checks.ts";

export const TREE_KEYS = ["include", "exclude", "followSymlinks", "delete", "keep"] as const;

// @ts-types="@types/picomatch"
import type PicomatchType from "picomatch";

let picomatch: typeof PicomatchType | undefined;

/**
 * Loads the glob compiler (picomatch). It is loaded only by a config that has
 * globs: as a CommonJS package it brings Node's module loader into the run,
 * about 40 ms of a one-file run's start-up. `validateConfig` calls this.
 */
export async function loadGlobs(): Promise<void> {
  picomatch ??= (await import("picomatch")).default as typeof PicomatchType;
}

/** True when some `files[]` entry of the raw config has a glob list to compile. */
export function hasGlobs(json: unknown): boolean {
  const files = (json as { files?: unknown } | null)?.files;
  return Array.isArray(files) &&
    files.some((f) => f && typeof f === "object" && GLOB_KEYS.some((k) => k in f));
}

const GLOB_KEYS = ["include", "exclude", "keep"];

/** Compiles a glob the way the walker uses it (`dot`: `**` also matches hidden names). */
export function compileGlob(glob: string): (path: string) => boolean {
  if (!picomatch) throw new Error("compileGlob: loadGlobs() was not awaited first");
  return picomatch(glob, { dot: true, strictBrackets: true });
}

/**
 * The entry's tree options when it declares itself a folder, else undefined.
 * `sourceIsFolder`: the source ends in "/".
 */
export function readTree(
  r: Reader,
  o: Obj,
  p: string,
  sourceIsFolder: boolean,
): TreeOptions | undefined {
  const given = TREE_KEYS.filter((k) => o[k] !== undefined);
  if (given.length === 0 && !sourceIsFolder) return undefined;
  const include = globList(r, o.include, `${p}.include`);
  const exclude = globList(r, o.exclude, `${p}.exclude`);
  let followSymlinks = false;
  if (o.followSymlinks !== undefined) {
    if (typeof o.followSymlinks === "boolean") followSymlinks = o.followSymlinks;
    else r.add(`${p}.followSymlinks`, "must be true or false");
  }
  const tree: TreeOptions = { include, exclude, followSymlinks, declaredBy: given[0] ?? "source" };
  const mirror = readMirror(r, o, p);
  if (mirror) tree.mirror = mirror;
  return tree;
}

/**
 * `"delete": true` (remote files and folders the local folder no longer has are
 * deleted after a clean run, see `plan/deletions.ts`) and `"keep"`: globs,
 * relative to the destination, of remote paths never deleted.
 */
function readMirror(r: Reader, o: Obj, p: string): TreeOptions["mirror"] {
  if (o.delete !== undefined && typeof o.delete !== "boolean") {
    r.add(`${p}.delete`, "must be true or false");
  }
  const keep = globList(r, o.keep, `${p}.keep`);
  if (o.delete === true) return { keep };
  if (o.keep !== undefined) {
    r.add(`${p}.keep`, 'only means something with "delete": true; add it or remove "keep"');
  }
  return undefined;
}

export function globList(r: Reader, raw: unknown, p: string): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    r.add(p, 'must be an array of globs, e.g. ["**/*.log"]');
    return [];
  }
  const globs: string[] = [];
  raw.forEach((g: unknown, i) => {
    const problem = text()(g);
    if (problem) return r.add(`${p}[${i}]`, problem);
    const glob = g as string;
    if (glob.startsWith("/")) {
      return r.add(`${p}[${i}]`, 'must be relative to the folder (no leading /), e.g. "logs/**"');
    }
    try {
      compileGlob(glob);
    } catch (e) {
      // picomatch's words name the construct, not the whole value.
      return r.add(`${p}[${i}]`, `is not a valid glob: ${(e as Error).message}`);
    }
    globs.push(glob);
  });
  return globs;
}
