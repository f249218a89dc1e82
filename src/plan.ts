/**
 * Pure planning: which files become jobs, which remote folders must exist
 * first, and how much work to hand a worker at a time. No I/O.
 *
 * @example
 * ```ts
 * import { folderGroups } from "./plan.ts";
 * folderGroups(["/a/b/x.txt", "/a/y.txt", "/c/z.txt"]);
 * // [["/a", "/a/b"], ["/c"]]
 * ```
 *
 * @module
 */

import { posix } from "node:path";
import type { UploadJob } from "./messages.ts";
import type { FileEntry } from "./types.ts";

/** A source as the coordinator found it before the run. */
export type CheckedSource =
  | { entry: FileEntry; ok: true; size: number; mtimeMs: number }
  | { entry: FileEntry; ok: false; reason: string };

/**
 * One job per readable source, largest first: with parallel workers the big
 * files start early and the small ones fill the gaps at the end.
 */
export function planJobs(checked: CheckedSource[]): UploadJob[] {
  const jobs: UploadJob[] = [];
  for (const c of checked) {
    if (!c.ok) continue;
    jobs.push({
      id: c.entry.index,
      source: c.entry.source,
      destination: c.entry.destination,
      size: c.size,
      mtimeMs: c.mtimeMs,
    });
  }
  return jobs.sort((a, b) => b.size - a.size || a.id - b.id);
}

/**
 * Remote folders the destinations need, in groups that share no folder:
 * one group per top-level folder, parents before children. Different
 * groups can be created by different connections at once without a race.
 */
export function folderGroups(destinations: Iterable<string>): string[][] {
  const byTop = new Map<string, Set<string>>();
  for (const dest of destinations) {
    let dir = posix.dirname(dest);
    const chain: string[] = [];
    while (dir !== "/" && dir !== ".") {
      chain.push(dir);
      dir = posix.dirname(dir);
    }
    if (chain.length === 0) continue;
    const top = chain[chain.length - 1];
    let set = byTop.get(top);
    if (!set) byTop.set(top, set = new Set());
    for (const d of chain) set.add(d);
  }
  return [...byTop.values()].map((set) =>
    [...set].sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1))
  );
}

function depth(path: string): number {
  let n = 0;
  for (const ch of path) if (ch === "/") n++;
  return n;
}

/**
 * How many jobs to hand an idle worker: big enough to save messages, small
 * enough that the last batches still spread over every worker.
 */
export function batchSize(queued: number, liveWorkers: number): number {
  const share = Math.ceil(queued / (Math.max(1, liveWorkers) * 4));
  return Math.max(1, Math.min(32, share));
}

/** True when `path` is `dir` or lies below it. */
export function isUnder(path: string, dir: string): boolean {
  return path.startsWith(dir.endsWith("/") ? dir : dir + "/");
}
