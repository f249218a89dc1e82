/**
 * The deploy step after a run's uploads: mirror deletions for the folder
 * entries with `"delete": true`, only when the run was clean (no failed or
 * missing file, which includes a source folder that could not be read, no
 * interrupt, a connection made). The coordinator calls it once, with the
 * run's files; its records join the report.
 *
 * @module
 */

import { posix } from "node:path";
import type { Config } from "../../config/types.ts";
import type { ReportEntry, ReportFile } from "../../report/report.ts";
import { shardOf } from "../../plan/shard.ts";
import type { FtpLogin } from "../../ftp/login.ts";
import type { FolderSource } from "../sources/folder_jobs.ts";
import { mirrorDeletions, type MirrorEntry } from "./deploy_delete.ts";
import { DeployLink } from "./deploy_link.ts";

export interface DeployStepOptions {
  config: Config;
  login: FtpLogin;
  folders: FolderSource[];
  entries: ReportEntry[];
  /** The run's failed and missing files (the report's totals). */
  failedOrMissing: number;
  plan: boolean;
  interrupted?: string;
  connectError?: string;
  signal?: AbortSignal;
  log?: (line: string) => void;
  /** Each deletion's record, with its folder entry's `files[]` index. */
  onRecord: (file: ReportFile, entry: number) => void;
}

export interface DeployStepOutcome {
  notes: string[];
  /** Deletions were refused for a reason that is not a failed file (exit 5). */
  refused?: string;
}

/** Runs the mirror deletions the config asks for, if the run allows them. */
export async function deployDeletionStep(o: DeployStepOptions): Promise<DeployStepOutcome> {
  const mirrors = o.folders.filter((f) => f.entry.tree?.mirror);
  if (mirrors.length === 0) return { notes: [] };
  const bad = o.failedOrMissing;
  const why = o.interrupted
    ? `the run was interrupted (${o.interrupted})`
    : o.connectError
    ? "no connection could be made"
    : bad > 0
    ? `${bad} file(s) failed or are missing`
    : undefined;
  if (why) {
    const note = `mirror deletions not done: ${why}; deletions run only after a clean run`;
    o.log?.(note);
    return { notes: [note] };
  }
  const entries: MirrorEntry[] = mirrors.map((f) => {
    const tree = f.entry.tree!;
    const totals = o.entries.find((e) => e.index === f.entry.index);
    return {
      index: f.entry.index,
      source: f.entry.source,
      remote: f.remote,
      include: tree.include,
      exclude: tree.exclude,
      keep: tree.mirror!.keep,
      others: othersBelow(o.config, f.entry.index, f.remote),
      walked: totals ? totals.uploaded + totals.skipped + totals.planned : 0,
    };
  });
  const shard = o.config.options.shard;
  const { options } = o.config;
  const link = new DeployLink({ login: o.login, timeoutMs: options.timeoutMs, retries: 3 });
  try {
    const outcome = await mirrorDeletions({
      entries,
      link,
      plan: o.plan,
      ...(options.maxDelete !== undefined ? { maxDelete: options.maxDelete } : {}),
      ...(shard ? { mine: (d: string) => shardOf(d, shard.count) === shard.index } : {}),
      password: o.login.password,
      signal: o.signal,
      log: o.log,
      onRecord: o.onRecord,
    });
    if (outcome.refused) o.log?.(outcome.refused);
    return outcome.refused
      ? { notes: [...outcome.notes, outcome.refused], refused: outcome.refused }
      : { notes: outcome.notes };
  } catch (e) {
    // The connection went for good mid-way: what was deleted is reported; the rest stays.
    const note = `mirror deletions stopped: ${(e as Error).message}`;
    o.log?.(note);
    return { notes: [note], refused: note };
  } finally {
    await link.close();
  }
}

/** The remote paths other entries upload to that lie below `remote`, relative to it. */
function othersBelow(config: Config, index: number, remote: string): string[] {
  const out: string[] = [];
  for (const f of config.files) {
    if (f.index === index) continue;
    for (const p of [f.destination, f.folderDestination]) {
      if (p === undefined) continue;
      const rel = posix.relative(remote, p);
      if (rel !== "" && rel !== ".." && !rel.startsWith("../")) out.push(rel);
    }
  }
  return out;
}
