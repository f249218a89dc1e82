/**
 * `ftpbatch upload CONFIG`: loads the config, applies the flags, and hands
 * over to `runAndReport`. CONFIG and `--report` are relative to the user's
 * folder (see `userCwd`).
 *
 * @module
 */

import { resolve } from "node:path";
import { loadConfig } from "../config/load.ts";
import { SKIP_RULES, type SkipRule } from "../config/types.ts";
import { EXIT } from "../report/report.ts";
import {
  type CommandSpec,
  flags,
  intFlag,
  type Io,
  parseOrHelp,
  UsageError,
  userCwd,
} from "./args.ts";
import { UPLOAD_HELP } from "./help.ts";
import { runAndReport } from "./run_and_report.ts";
import { shardFromCli } from "./shard_flag.ts";
import { parseRate } from "../ftp/bandwidth.ts";
import { RATE_WORDING } from "../config/network.ts";

const UPLOAD: CommandSpec = {
  name: "upload",
  flags: flags(
    ["workers", "retries", "report", "shard", "lock", "skip", "bwlimit", "max-delete"],
    [
      "no-atomic",
      "dry-run",
      "quiet",
      "json",
      "verbose",
      "force",
      "plan",
      "remote-lock",
      "break-remote-lock",
    ],
  ),
  positionals: { count: 1, what: "CONFIG file" },
  help: UPLOAD_HELP,
};

export async function uploadCommand(args: string[], io: Io): Promise<number> {
  const parsed = parseOrHelp(UPLOAD, args, io);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  const workers = intFlag("workers", values.workers, 1, 64);
  const retries = intFlag("retries", values.retries, 0, 100);
  const skip = skipFlag(values.skip, Boolean(values.force));
  const maxDelete = intFlag("max-delete", values["max-delete"], 0, 1e9);
  if (values.plan && values["dry-run"]) {
    throw new UsageError("--plan connects and lists; --dry-run connects to nothing: choose one");
  }
  const bwlimit = bwlimitFlag(values.bwlimit);
  const shard = shardFromCli(values.shard as string | undefined, io.env);
  const cwd = userCwd(io);
  const config = await loadConfig(positionals[0], cwd);
  if (workers !== undefined) config.options.workers = workers;
  if (retries !== undefined) config.options.retries = retries;
  if (values.report) config.options.report = resolve(cwd, values.report as string);
  if (values["no-atomic"]) config.options.atomic = false;
  if (skip) config.options.skip = skip;
  if (shard) config.options.shard = shard;
  if (bwlimit !== undefined) config.options.bwlimit = bwlimit;
  if (values.lock) config.options.lock = resolve(cwd, values.lock as string);
  if (maxDelete !== undefined) config.options.maxDelete = maxDelete;
  if (values["remote-lock"] || values["break-remote-lock"]) config.options.remoteLock ??= true;
  return await runAndReport(config, io, {
    dryRun: Boolean(values["dry-run"]),
    plan: Boolean(values.plan),
    breakRemoteLock: Boolean(values["break-remote-lock"]),
    quiet: Boolean(values.quiet),
    json: Boolean(values.json),
    verbose: Boolean(values.verbose),
    ...(values.report ? { reportLabel: "--report" } : {}),
    ...(values.lock ? { lockLabel: "--lock" } : {}),
  });
}

/** `--bwlimit RATE`: bytes per second over all connections. */
function bwlimitFlag(value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const rate = parseRate(String(value));
  if (rate === undefined) throw new UsageError(`--bwlimit must be ${RATE_WORDING}, got "${value}"`);
  return rate;
}

/** `--skip RULE` or `--force` (the same as `--skip none`); both at once only if they agree. */
function skipFlag(value: unknown, force: boolean): SkipRule | undefined {
  if (value !== undefined && !SKIP_RULES.includes(value as SkipRule)) {
    throw new UsageError(
      `--skip must be size+mtime, size+newer, size, none or hash, got "${value}"`,
    );
  }
  if (force && value !== undefined && value !== "none") {
    throw new UsageError(`--force sends every file: it cannot go with --skip ${value}`);
  }
  return force ? "none" : value as SkipRule | undefined;
}
