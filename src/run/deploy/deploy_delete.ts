/**
 * Mirror deletions (`"delete": true` on a folder entry), the I/O half:
 * lists the remote destination folder by folder and reads the matching local
 * folders, asks `plan/deletions.ts` what may go, checks the cap, then
 * deletes: files one by one (DELE), then folders deepest first, each only
 * when a fresh listing shows it empty (RMD, never a recursive removal).
 *
 * The caller runs this only after a clean run (every file uploaded or
 * skipped, no interrupt, no walk error). Here, any listing that cannot be
 * read, or a local folder that cannot be read, stops every deletion of the
 * run before the first one: deleting from half a picture is how sites break.
 * With `plan` nothing is deleted; the deletions are reported as planned.
 *
 * @module
 */

import { join, posix } from "node:path";
import { FTPError, ProtocolError } from "../../ftp/errors.ts";
import { isSuccess } from "../../ftp/codes.ts";
import { safeText } from "../../ftp/server_text.ts";
import type { ReportFile } from "../../report/report.ts";
import {
  capProblem,
  deletionCount,
  DeletionFilter,
  type DeletionPlan,
  planDeletions,
  type RemoteItem,
} from "../../plan/deletions.ts";
import type { DeployLink } from "./deploy_link.ts";

/** A folder entry with `"delete": true`. */
export interface MirrorEntry {
  index: number;
  /** The local folder. */
  source: string;
  /** The remote folder. */
  remote: string;
  include: readonly string[];
  exclude: readonly string[];
  keep: readonly string[];
  /** Other entries' remote paths below `remote`, relative: left alone. */
  others: readonly string[];
  /** Files the walk found for it this run (none: the source is refused as empty). */
  walked: number;
}

export interface DeletionOptions {
  entries: MirrorEntry[];
  link: DeployLink;
  maxDelete?: number;
  /** Report what would go, delete nothing (`--plan`). */
  plan: boolean;
  /** This run's share of remote paths (`--shard`). */
  mine?: (destination: string) => boolean;
  password?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Each deletion's record as soon as it is final. */
  onRecord: (file: ReportFile, entry: number) => void;
}

export interface DeletionOutcome {
  /** Why nothing was deleted (over the cap, an unreadable listing, an empty source). */
  refused?: string;
  /** Said once in the report (folders left because they were not empty). */
  notes: string[];
}

const NOT_LOCAL = "not in the local folder";

/** Plans every entry's deletions, then (unless refused or `plan`) carries them out. */
export async function mirrorDeletions(o: DeletionOptions): Promise<DeletionOutcome> {
  const plans: { entry: MirrorEntry; plan: DeletionPlan; sizes: Map<string, number> }[] = [];
  for (const entry of o.entries) {
    if (entry.walked === 0) {
      return {
        refused: `files[${entry.index}]: the local folder ${entry.source} has no files to ` +
          `mirror; nothing was deleted (an empty source would empty ${entry.remote})`,
        notes: [],
      };
    }
    try {
      plans.push({ entry, ...await planEntry(o, entry) });
    } catch (e) {
      const why = safeText(e instanceof Error ? e.message : String(e), [o.password]);
      return { refused: `files[${entry.index}]: ${why}; nothing was deleted`, notes: [] };
    }
  }
  const total = plans.reduce((n, p) => n + deletionCount(p.plan), 0);
  for (const { entry, plan } of plans) {
    const count = o.maxDelete !== undefined ? total : deletionCount(plan);
    const problem = capProblem(count, plan.held, o.maxDelete, entry.remote);
    if (problem) return { refused: problem, notes: [] };
  }
  const notes: string[] = [];
  for (const { entry, plan, sizes } of plans) {
    if (o.signal?.aborted) break;
    await carryOut(o, entry, plan, sizes, notes);
  }
  return { notes };
}

/** Lists the destination (and reads the local folders beside it) and plans. */
async function planEntry(
  o: DeletionOptions,
  entry: MirrorEntry,
): Promise<{ plan: DeletionPlan; sizes: Map<string, number> }> {
  const filter = new DeletionFilter({
    include: entry.include,
    exclude: entry.exclude,
    keep: entry.keep,
    others: entry.others,
    ...(o.mine ? { mine: (rel: string) => o.mine!(posix.join(entry.remote, rel)) } : {}),
  });
  const listed = new Map<string, RemoteItem[]>();
  const local = new Map<string, Set<string> | undefined>();
  const sizes = new Map<string, number>();
  // Folders to read: [relative path, local folder or undefined where it is not there].
  const queue: [string, string | undefined][] = [["", entry.source]];
  while (queue.length > 0) {
    if (o.signal?.aborted) throw new Error("interrupted");
    const [rel, localDir] = queue.shift()!;
    const path = rel === "" ? entry.remote : posix.join(entry.remote, rel);
    const listing = await o.link.run((s) => s.list(path)).catch((e) => {
      if (e instanceof FTPError || e instanceof ProtocolError) {
        throw new Error(`the listing of ${path} could not be read (${e.message})`);
      }
      throw e;
    });
    if (!listing) {
      if (rel === "") break; // no remote folder: nothing to delete
      throw new Error(`${path} is listed but cannot be entered`);
    }
    const names = localDir === undefined ? undefined : await localNames(localDir);
    local.set(rel, names && new Set(names.keys()));
    const items: RemoteItem[] = [];
    for (const [name, e] of listing) {
      items.push({ name, type: e.type });
      const childRel = rel === "" ? name : `${rel}/${name}`;
      if (e.type === "file" && e.size !== undefined) sizes.set(childRel, e.size);
      if (e.type !== "dir" || filter.protectsDir(childRel)) continue;
      const mate = names?.get(name.normalize("NFC"));
      // A local file or unfollowed link of that name: the remote folder is left whole.
      if (mate && !mate.isDir) continue;
      queue.push([childRel, mate ? join(localDir!, mate.name) : undefined]);
    }
    listed.set(rel, items);
  }
  return { plan: planDeletions(listed, local, filter), sizes };
}

/** The names in a local folder (NFC) with their real name and kind; undefined: not there. */
async function localNames(
  dir: string,
): Promise<Map<string, { name: string; isDir: boolean }> | undefined> {
  const names = new Map<string, { name: string; isDir: boolean }>();
  try {
    for await (const e of Deno.readDir(dir)) {
      names.set(e.name.normalize("NFC"), { name: e.name, isDir: e.isDirectory });
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw new Error(`the local folder ${dir} could not be read (${(e as Error).message})`);
  }
  return names;
}

async function carryOut(
  o: DeletionOptions,
  entry: MirrorEntry,
  plan: DeletionPlan,
  sizes: Map<string, number>,
  notes: string[],
): Promise<void> {
  const record = (rel: string, status: ReportFile["status"], started: number, more = {}) =>
    o.onRecord({
      source: null,
      destination: posix.join(entry.remote, rel),
      status,
      action: "delete",
      size: sizes.get(rel) ?? 0,
      bytesSent: 0,
      attempts: status === "planned" ? 0 : 1,
      resumedFrom: [],
      worker: 0,
      durationMs: Date.now() - started,
      ...more,
    }, entry.index);
  let notEmpty = 0;
  for (const rel of plan.files) {
    if (o.signal?.aborted) return;
    const started = Date.now();
    if (o.plan) {
      record(rel, "planned", started, { reason: NOT_LOCAL });
      continue;
    }
    const path = posix.join(entry.remote, rel);
    const reply = await o.link.run((s) => s.deleteFile(path)).catch((e: Error) => ({
      code: 0,
      message: e.message,
    }));
    if (isSuccess(reply.code)) {
      record(rel, "deleted", started, { reason: NOT_LOCAL });
    } else if (reply.code >= 500 && !(await o.link.run((s) => s.stat(path)).catch(() => true))) {
      record(rel, "deleted", started, { reason: "already gone from the server" });
    } else {
      record(rel, "failed", started, {
        error: safeText(`DELE refused: ${reply.code} ${reply.message}`, [o.password]),
      });
    }
  }
  for (const rel of plan.dirs) {
    if (o.signal?.aborted) return;
    const started = Date.now();
    if (o.plan) {
      record(rel, "planned", started, { reason: `${NOT_LOCAL} (a folder)` });
      continue;
    }
    const path = posix.join(entry.remote, rel);
    // Only a folder the server lists as empty is removed: RMD is recursive on some servers.
    const listing = await o.link.run((s) => s.list(path)).catch(() => undefined);
    if (!listing || listing.size > 0) {
      notEmpty++;
      continue;
    }
    const reply = await o.link.run((s) => s.removeEmptyDir(path)).catch(() => undefined);
    if (reply && isSuccess(reply.code)) {
      record(rel, "deleted", started, { reason: `${NOT_LOCAL} (a folder)` });
    } else {
      notEmpty++; // hidden entries the listing did not show: the folder stays, as it should
    }
  }
  if (notEmpty > 0) {
    const note = `files[${entry.index}]: ${notEmpty} folder(s) not in the local folder were ` +
      `left on the server: not empty (or not removable) when their turn came`;
    notes.push(note);
    o.log?.(note);
  }
}
