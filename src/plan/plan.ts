/**
 * Pure planning: which files become jobs, which remote folders must exist
 * first, and how much work to hand a worker at a time. No I/O.
 *
 * @example
 * ```ts
 * import { planFolders } from "./plan.ts";
 * planFolders(["/in/a/x.txt", "/in/b/c/y.txt"]);
 * // { trunk: ["/in"], groups: [["/in/a"], ["/in/b", "/in/b/c"]] }
 * ```
 *
 * @module
 */

import { posix } from "node:path";
import type { UploadJob } from "../upload/job.ts";
import type { FileEntry } from "../config/types.ts";

/** A source as the coordinator found it before the run. */
export type CheckedSource =
  | { entry: FileEntry; ok: true; size: number; mtimeMs: number }
  | { entry: FileEntry; ok: false; reason: string };

/**
 * One job per readable source whose name the server can store (no
 * `unencodable` mark), largest first: with parallel workers the big files
 * start early and the small ones fill the gaps at the end.
 */
export function planJobs(checked: CheckedSource[]): UploadJob[] {
  const jobs: UploadJob[] = [];
  for (const c of checked) {
    if (!c.ok || c.entry.unencodable) continue;
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

/** Remote folders to create: the shared trunk first, then groups that share no folder. */
export interface FolderPlan {
  /** The chain from the root down to where the tree first branches, parents first. */
  trunk: string[];
  /** One group per branch below the trunk, parents first; groups can be created in parallel. */
  groups: string[][];
}

/**
 * Plans the remote folders the destinations need. Everything usually lives
 * under one folder (`/incoming/...`): grouping below the trunk, not by the
 * top-level folder, is what lets several connections create folders at once
 * without two of them ever creating the same one.
 */
export function planFolders(destinations: Iterable<string>): FolderPlan {
  const children = new Map<string, Set<string>>();
  const seen = new Set<string>();
  for (const dest of destinations) {
    let dir = posix.dirname(dest);
    while (dir !== "/" && dir !== "." && !seen.has(dir)) {
      seen.add(dir);
      const parent = posix.dirname(dir);
      let siblings = children.get(parent);
      if (!siblings) children.set(parent, siblings = new Set());
      siblings.add(dir);
      dir = parent;
    }
  }
  const trunk: string[] = [];
  let end = "/";
  for (;;) {
    const below = children.get(end);
    if (!below || below.size !== 1) break;
    end = [...below][0];
    trunk.push(end);
  }
  const groups: string[][] = [];
  for (const top of children.get(end) ?? []) {
    const group: string[] = [];
    const stack = [top];
    while (stack.length > 0) {
      const dir = stack.pop()!;
      group.push(dir);
      stack.push(...(children.get(dir) ?? []));
    }
    groups.push(group.sort((a, b) => depth(a) - depth(b) || (a < b ? -1 : 1)));
  }
  return { trunk, groups };
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
