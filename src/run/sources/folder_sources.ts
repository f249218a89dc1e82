/**
 * Which config entries are folders, found when the sources are checked (a
 * source's kind is known only by looking at it).
 *
 * An entry that declares itself a folder (`include`, `exclude`,
 * `followSymlinks`, or a source ending in "/") but whose source is a file is
 * a config error here, exit 2 before anything is sent; so is a folder whose
 * remote folder overlaps another folder entry's, or is a listed file's
 * destination. A declared folder that does not exist is reported missing.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import type { Config, FileEntry } from "../../config/types.ts";
import { ConfigError, type ConfigProblem } from "../../config/errors.ts";
import type { CheckedSource } from "../../plan/plan.ts";
import { selectShard } from "../../plan/shard.ts";
import { checkSources, IS_FOLDER, type LocalIdentity } from "./sources.ts";
import type { FolderSource } from "./folder_jobs.ts";

export interface SortedEntries {
  /** Listed files of this shard, checked, in config order. */
  checked: (CheckedSource & LocalIdentity)[];
  /** Folder entries, in config order (sharding applies to their files). */
  folders: FolderSource[];
}

/**
 * Splits the config's entries into listed files (checked, this shard's
 * only) and folder sources.
 *
 * @throws {ConfigError} for a declared folder that is a file, or overlapping folders.
 */
export function sortEntries(config: Config): SortedEntries {
  const problems: ConfigProblem[] = [];
  const folders: FolderSource[] = [];
  const rest: FileEntry[] = [];
  for (const entry of config.files) {
    if (!entry.tree) {
      rest.push(entry);
      continue;
    }
    if (kindOf(entry.source) === "other") {
      const key = entry.tree.declaredBy;
      problems.push({
        path: `files[${entry.index}].${key}`,
        message: key === "source"
          ? 'ends with "/" but is a file, not a folder; remove the "/"'
          : `is only for folder sources, but files[${entry.index}].source is a file; remove "${key}"`,
      });
      continue;
    }
    folders.push({ entry, remote: entry.destination });
  }
  const shard = config.options.shard;
  const mine = selectShard(rest, shard);
  const checked = checkSources(mine).filter((c) => {
    if (c.ok || c.reason !== IS_FOLDER) return true;
    folders.push({ entry: c.entry, remote: c.entry.folderDestination ?? c.entry.destination });
    return false;
  });
  if (shard) {
    // Entries whose file destination is another shard's may still be folders with files here.
    const taken = new Set(mine);
    for (const entry of rest) {
      if (!taken.has(entry) && kindOf(entry.source) === "folder") {
        folders.push({ entry, remote: entry.folderDestination ?? entry.destination });
      }
    }
  }
  folders.sort((a, b) => a.entry.index - b.entry.index);
  checkOverlaps(config.files, folders, problems);
  if (problems.length > 0) throw new ConfigError(problems, config.configPath);
  return { checked, folders };
}

function kindOf(path: string): "folder" | "other" | "missing" {
  try {
    return Deno.statSync(path).isDirectory ? "folder" : "other";
  } catch {
    return "missing";
  }
}

function checkOverlaps(files: FileEntry[], folders: FolderSource[], problems: ConfigProblem[]) {
  const folderOf = new Map(folders.map((f) => [f.entry.index, f.remote]));
  folders.forEach((f, k) => {
    const other = folders.slice(0, k).find((g) =>
      within(f.remote, g.remote) || within(g.remote, f.remote)
    );
    if (other && !(f.entry.tree && other.entry.tree)) { // two declared ones: validation said it
      problems.push({
        path: `files[${f.entry.index}].destination`,
        message:
          `overlaps the remote folder of files[${other.entry.index}] (both sources are folders); give each folder source its own remote folder`,
      });
    }
  });
  for (const e of files) {
    if (folderOf.has(e.index)) continue;
    const f = folders.find((g) => g.remote === e.destination);
    if (f && !f.entry.tree) {
      problems.push({
        path: `files[${e.index}].destination`,
        message:
          `is the remote folder of files[${f.entry.index}] (its source is a folder); a remote path can't be both a file and a folder`,
      });
    }
  }
}

/**
 * The folder entry whose source folder holds `path` (a file the run would
 * write: the report or the lock), compared with symlinks resolved on both
 * sides; undefined when none does. Such a file would be walked and uploaded
 * on the next run, and a lock there would empty the file it replaced.
 * `folders`: the entries whose source is a folder ({@linkcode sortEntries}'s
 * `folders`); others are passed over, a stat each.
 */
export async function folderSourceHolding(
  path: string,
  folders: readonly FileEntry[],
): Promise<FileEntry | undefined> {
  const target = await resolvedFile(path);
  for (const entry of folders) {
    let real: string;
    try {
      // Synchronous: an async stat is a trip to another thread each.
      if (!Deno.statSync(entry.source).isDirectory) continue;
      real = await Deno.realPath(entry.source);
    } catch {
      continue; // not there: nothing to walk
    }
    if (within(target, real) && target !== real) return entry;
  }
  return undefined;
}

/** `path` with the symlinks of its folders (and of itself, where it is one) resolved. */
async function resolvedFile(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await Deno.realPath(abs);
  } catch {
    try {
      return join(await Deno.realPath(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

function within(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : dir + "/");
}
