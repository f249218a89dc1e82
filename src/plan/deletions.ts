/**
 * Which remote files and folders a mirror deploy (`"delete": true` on a
 * folder entry) removes: the pure decision, from the listings of the remote
 * destination and the names the local folder holds. No I/O (`run/deploy/deploy_delete.ts`
 * lists, asks and deletes).
 *
 * A remote path is deleted only when all of these hold:
 * - the local folder has no entry of that name at all (a file, folder or symlink of the
 *   name keeps it, whatever its kind);
 * - the entry's own filters would have taken it (`include`/`exclude`, as the walk applies
 *   them: an excluded folder is not entered), as lftp keeps excluded target files;
 * - no `keep` glob (relative to the destination) matches it or a folder above it;
 * - no other entry of the config uploads to it or to a folder above it;
 * - it is not one of ftpbatch's own names (`.ftpbatch-*`: the manifest, the remote lock,
 *   another run's temporary files) nor ProFTPD's in-flight `.in.<name>.`;
 * - it is a plain file, or a folder whose every entry is deleted too (symbolic links and
 *   special files are never touched, so a folder holding one stays).
 *
 * Folders come out deepest first, after all files: RMD only ever meets a folder its
 * listing showed empty once the files went.
 *
 * @module
 */

import { posix } from "node:path";
import { compileGlob } from "../config/tree.ts";
import { TEMP_MARK } from "../upload/temp_name.ts";

/** One name in a remote folder's listing. */
export interface RemoteItem {
  name: string;
  type: "file" | "dir" | "link" | "other";
}

/** The entry's rules, relative to the destination (POSIX). */
export interface DeletionRules {
  include: readonly string[];
  exclude: readonly string[];
  keep: readonly string[];
  /** This run's share of the paths (`--shard`): only these files may go. Absent: all. */
  mine?: (rel: string) => boolean;
  /** Where other entries of the config upload to, relative: never deleted, nor what is below. */
  others?: readonly string[];
}

export interface DeletionPlan {
  /** Files to DELE, relative to the destination. */
  files: string[];
  /** Folders to RMD, relative, deepest first. */
  dirs: string[];
  /** Files and folders the listings showed (the default cap is half of these). */
  held: number;
}

/** True for names ftpbatch (or a server, for ftpbatch's uploads) keeps for itself. */
export function isOwnName(name: string): boolean {
  return name.startsWith(TEMP_MARK) || name.includes(TEMP_MARK) ||
    (name.startsWith(".in.") && name.endsWith("."));
}

/** The compiled rules: which remote folders to look into, which paths may go. */
export class DeletionFilter {
  #include: ((p: string) => boolean)[];
  #exclude: ((p: string) => boolean)[];
  #keep: ((p: string) => boolean)[];

  constructor(readonly rules: DeletionRules) {
    this.#include = rules.include.map(compileGlob);
    this.#exclude = rules.exclude.map(compileGlob);
    this.#keep = rules.keep.map(compileGlob);
  }

  /** A folder whose contents are never deleted (so never listed either). */
  protectsDir(rel: string): boolean {
    return isOwnName(posix.basename(rel)) || this.#excluded(rel) || this.#kept(rel) ||
      this.#others(rel);
  }

  /** A file that may be deleted if the local folder lacks it. */
  mayDeleteFile(rel: string): boolean {
    if (isOwnName(posix.basename(rel)) || this.#excluded(rel) || this.#kept(rel)) return false;
    if (this.#others(rel)) return false;
    if (this.#include.length > 0 && !this.#include.some((m) => m(rel))) return false;
    return this.rules.mine?.(rel) ?? true;
  }

  #others(rel: string): boolean {
    return (this.rules.others ?? []).some((o) => rel === o || rel.startsWith(o + "/"));
  }

  #excluded(rel: string): boolean {
    return this.#exclude.some((m) => m(rel));
  }

  /** A keep glob matches the path, or the path as a folder (`uploads/**` keeps `uploads`). */
  #kept(rel: string): boolean {
    return this.#keep.some((m) => m(rel) || m(`${rel}/`));
  }
}

/**
 * The plan for one destination. `listed`: each remote folder read (relative,
 * `""` the destination itself) with its items; a folder absent from it was
 * not read, so it and the folders above it stay. `local`: the names each
 * local folder holds (NFC), `undefined` where the local folder is not there.
 */
export function planDeletions(
  listed: ReadonlyMap<string, readonly RemoteItem[]>,
  local: ReadonlyMap<string, ReadonlySet<string> | undefined>,
  filter: DeletionFilter,
): DeletionPlan {
  const plan: DeletionPlan = { files: [], dirs: [], held: 0 };
  for (const items of listed.values()) plan.held += items.length;
  // Post-order: a folder is decided after everything in it.
  const empties = (dir: string): boolean => {
    const items = listed.get(dir);
    if (items === undefined) return false;
    const here = local.get(dir);
    let all = true;
    for (const item of items) {
      const rel = dir === "" ? item.name : `${dir}/${item.name}`;
      const localHas = here?.has(item.name.normalize("NFC")) ?? false;
      if (item.type === "file") {
        if (!localHas && filter.mayDeleteFile(rel)) plan.files.push(rel);
        else all = false;
      } else if (item.type === "dir" && !filter.protectsDir(rel)) {
        const gone = empties(rel);
        if (gone && !localHas) plan.dirs.push(rel);
        else all = false;
      } else {
        all = false;
      }
    }
    return all;
  };
  empties("");
  return plan;
}

/** How many deletions a plan makes. */
export function deletionCount(plan: DeletionPlan): number {
  return plan.files.length + plan.dirs.length;
}

/**
 * Why deleting `count` paths is refused, or undefined. With `maxDelete` the
 * cap is that number for the whole run (`total`); without it each destination
 * may lose at most half of what its listings showed.
 */
export function capProblem(
  count: number,
  held: number,
  maxDelete: number | undefined,
  destination: string,
): string | undefined {
  if (maxDelete !== undefined) {
    if (count <= maxDelete) return undefined;
    return `${count} deletion(s) planned, over the cap of ${maxDelete} (options.maxDelete / ` +
      `--max-delete); nothing was deleted. Check the plan (--plan), then raise --max-delete`;
  }
  if (count * 2 <= held) return undefined;
  return `${count} of the ${held} paths in ${destination} would be deleted, more than half ` +
    `(the default cap without options.maxDelete / --max-delete); nothing was deleted. ` +
    `Check the plan (--plan), then run with --max-delete ${count}`;
}
