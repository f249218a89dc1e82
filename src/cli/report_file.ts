/**
 * Files the run writes (the report, the `--lock` file, a merged report): a
 * path is checked before anything is sent or read (it must never replace a
 * source, the config, an input report, a folder, a link or a device, and a
 * run must not upload for an hour and then find it cannot write its report).
 * The report itself is written whole or not at all by
 * `report/report_writer.ts`.
 *
 * @module
 */

import { basename, dirname, join, resolve } from "node:path";
import type { Config, FileEntry } from "../config/types.ts";
import { UsageError } from "./args.ts";
import { folderSourceHolding } from "../run/sources/folder_sources.ts";

/**
 * Throws a {@linkcode UsageError} (exit 2, nothing sent) when `path` must not
 * be written, or its folder is missing or not writable. `label` names where
 * the path came from (`--report` or `<config>: options.report`); `what` is
 * the file this run would write there (the report, or the `--lock` file).
 * `folders`: the entries whose source is a folder (`sortEntries` found them).
 */
export async function checkOutputPath(
  path: string,
  config: Config,
  folders: readonly FileEntry[],
  label: string,
  what = "report",
): Promise<void> {
  const refuse = (why: string): never => {
    throw new UsageError(`${label} ${path}: ${why}; nothing was sent`);
  };
  const info = await plainTarget(path, refuse);

  const target = await canonical(path);
  const configInfo = await Deno.stat(config.configPath).catch(() => undefined);
  if (target === await canonical(config.configPath) || sameFile(info, configInfo)) {
    refuse(`is the config file; the ${what} would replace it`);
  }
  // Only a source with the same name can be the same path; a hard link to the
  // report file (nlink > 1) can have any name, so then every source is looked at.
  const name = basename(target);
  const linked = (info?.nlink ?? 1) > 1;
  for (const f of config.files) {
    if (basename(f.source) === name && await canonical(f.source) === target) {
      refuse(`is the source of files[${f.index}]; the ${what} would replace it`);
    }
    if (linked && sameFile(info, await Deno.stat(f.source).catch(() => undefined))) {
      refuse(`is the same file as the source of files[${f.index}]; the ${what} would replace it`);
    }
  }
  const holder = await folderSourceHolding(path, folders);
  if (holder) {
    refuse(
      `is inside the source folder of files[${holder.index}]; the ${what} would be uploaded with it (and could replace a file there); put it outside`,
    );
  }
  await checkWritable(dirname(path), refuse);
}

/**
 * The same checks for `report merge --output` (exit 2, nothing written): a
 * regular file or nothing, none of the reports being merged, in a folder
 * that can be written.
 */
export async function checkMergeOutput(
  path: string,
  inputs: string[],
  label: string,
): Promise<void> {
  const refuse = (why: string): never => {
    throw new UsageError(`${label} ${path}: ${why}; nothing was written`);
  };
  const info = await plainTarget(path, refuse);
  const target = await canonical(path);
  for (const input of inputs) {
    if (
      await canonical(input) === target ||
      sameFile(info, await Deno.stat(input).catch(() => undefined))
    ) {
      refuse(`is one of the reports being merged (${input}); the merge would replace it`);
    }
  }
  await checkWritable(dirname(path), refuse);
}

/** What is at `path` now (undefined: nothing); refuses a link, a folder, a device. */
async function plainTarget(
  path: string,
  refuse: (why: string) => never,
): Promise<Deno.FileInfo | undefined> {
  let info: Deno.FileInfo | undefined;
  try {
    info = await Deno.lstat(path);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) refuse(`cannot check it (${(e as Error).message})`);
  }
  if (info?.isSymlink) refuse("is a symbolic link; give the path of a regular file, not a link");
  if (info?.isDirectory) refuse("is a folder; give a file name inside it");
  if (info && !info.isFile) refuse("is not a regular file (a device, pipe or socket)");
  return info;
}

/** The path with its folder's symlinks resolved (the file itself may not exist yet). */
async function canonical(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return join(await Deno.realPath(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

function sameFile(a?: Deno.FileInfo, b?: Deno.FileInfo): boolean {
  return a?.ino != null && b?.ino != null && a.ino === b.ino && a.dev === b.dev;
}

/** Creates and removes a file in `dir`: the only sure test that the report can be written. */
async function checkWritable(dir: string, refuse: (why: string) => never): Promise<void> {
  const probe = join(dir, `.ftpbatch-report-check-${Deno.pid}`);
  try {
    (await Deno.open(probe, { write: true, createNew: true })).close();
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) refuse(`its folder ${dir} does not exist; create it`);
    refuse(`cannot write in its folder ${dir} (${(e as Error).message})`);
  }
  await Deno.remove(probe);
}
