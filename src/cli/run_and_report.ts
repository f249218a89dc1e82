/**
 * One upload run as the command line does it (shared by `upload` and
 * `demo`): signal handling, the run, then the report file, the summary and
 * the exit code. Every line shown passes through `safeText` with the
 * password, a last line of defence against what a server sends.
 *
 * @module
 */

import { type Config, DEFAULT_REMOTE_LOCK_TTL_MS } from "../config/types.ts";
import { resolvePassword } from "../config/password.ts";
import { checkPasswordEncoding } from "../config/encoding.ts";
import { runUpload } from "../run/coordinator.ts";
import { serverLogin } from "../run/run_settings.ts";
import { EXIT, splitReport } from "../report/report.ts";
import { summarize } from "../report/summary.ts";
import { ReportWriter } from "../report/report_writer.ts";
import { safeText } from "../ftp/server_text.ts";
import type { Io } from "./args.ts";
import { acquireLock, type HeldLock, LockFileError, LockHeldError } from "./lock.ts";
import { checkOutputPath } from "./report_file.ts";
import { type SortedEntries, sortEntries } from "../run/sources/folder_sources.ts";
import { UsageError } from "./args.ts";
import { RunOutput } from "./run_output.ts";
import {
  acquireRemoteLock,
  defaultLockPath,
  type HeldRemoteLock,
  RemoteLockHeld,
} from "../run/deploy/deploy_lock.ts";

export interface RunFlags {
  dryRun?: boolean;
  /** `--plan`: connect and list, change nothing, report what a run would do. */
  plan?: boolean;
  /** `--break-remote-lock`: take over a remote lock older than its TTL. */
  breakRemoteLock?: boolean;
  quiet?: boolean;
  /** NDJSON events on stdout (`--json`). */
  json?: boolean;
  /** A stderr line per finished file (`--verbose`). */
  verbose?: boolean;
  printReport?: boolean;
  /** How the report path was given, for messages: `--report` or `options.report`. */
  reportLabel?: string;
  /** Likewise for the lock file: `--lock` or `options.lock`. */
  lockLabel?: string;
}

/**
 * Runs an upload with signal handling (under the `--lock` when one is given),
 * writes the report, prints the summary.
 */
export async function runAndReport(config: Config, io: Io, flags: RunFlags): Promise<number> {
  const password = resolvePassword(config.server, io.env, config.configPath);
  await checkPasswordEncoding(config.server, password, config.configPath);
  // The sources are checked once, here: the output checks need to know which are folders.
  const sorted = sortEntries(config);
  const folders = sorted.folders.map((f) => f.entry);
  const reportPath = config.options.report;
  if (reportPath) {
    await checkOutputPath(
      reportPath,
      config,
      folders,
      flags.reportLabel ?? `${config.configPath}: options.report`,
    );
  }
  const lockPath = config.options.lock;
  let lock: HeldLock | undefined;
  if (lockPath && !flags.dryRun) {
    const label = flags.lockLabel ?? `${config.configPath}: options.lock`;
    if (lockPath === reportPath) {
      throw new UsageError(`${label} ${lockPath}: is also the report path; nothing was sent`);
    }
    await checkOutputPath(lockPath, config, folders, label, "lock file");
    try {
      lock = await acquireLock(lockPath);
    } catch (e) {
      if (e instanceof LockHeldError) {
        io.err(e.message);
        return EXIT.locked;
      }
      if (e instanceof LockFileError) throw new UsageError(`${label}: ${e.message}`);
      throw e;
    }
  }
  try {
    const remote = await takeRemoteLock(config, io, flags, password);
    if (typeof remote === "number") return remote;
    try {
      return await lockedRun(config, io, flags, password, sorted);
    } finally {
      await remote?.release();
    }
  } finally {
    lock?.release();
  }
}

async function lockedRun(
  config: Config,
  io: Io,
  flags: RunFlags,
  password: string | undefined,
  sorted: SortedEntries,
): Promise<number> {
  const secrets = [password];
  const reportPath = config.options.report;
  const controller = new AbortController();
  const handlers = (["SIGINT", "SIGTERM"] as const).map((sig) => {
    const handler = () => controller.abort(sig);
    Deno.addSignalListener(sig, handler);
    return () => Deno.removeSignalListener(sig, handler);
  });
  const output = new RunOutput(io, flags, secrets);
  // The records stream to a temporary file next to the report, renamed into place at the end.
  const writer = reportPath ? new ReportWriter(reportPath, secrets) : undefined;
  let outcome;
  try {
    outcome = await runUpload({
      config,
      sorted,
      password,
      dryRun: flags.dryRun,
      plan: flags.plan,
      signal: controller.signal,
      log: output.log,
      onEvent: output.event,
      sink: writer,
      countAhead: output.showsProgress,
    });
  } catch (e) {
    writer?.abort();
    throw e;
  } finally {
    handlers.forEach((remove) => remove());
    output.stop();
  }
  const { report, summary } = outcome;
  let { exitCode } = outcome;
  let written = false;
  if (reportPath && writer) {
    const failed = writer.finish(splitReport(report).tail);
    written = failed === undefined;
    for (const stale of writer.removed) {
      io.err(safeText(`removed ${stale} (the temporary report of a run that was killed)`));
    }
    if (failed === undefined) {
      io.err(`report: ${reportPath}`);
    } else {
      io.err(safeText(`could not write the report to ${reportPath}: ${failed}`));
      // A scheduler must not take a run without its proof for a clean one.
      if (exitCode === EXIT.ok) exitCode = EXIT.someFailed;
    }
  }
  output.end({
    type: "run-end",
    exitCode,
    durationMs: report.durationMs,
    dryRun: report.dryRun,
    ...(report.interrupted ? { interrupted: report.interrupted } : {}),
    totals: report.totals,
    report: written ? reportPath! : null,
  });
  if (flags.printReport && written) io.out((await Deno.readTextFile(reportPath!)).trimEnd());
  if (!flags.quiet || exitCode !== EXIT.ok) io.err(summarize(summary, { secrets }));
  if (outcome.connectError) {
    io.err(
      safeText(`could not connect or log in to ${config.server.host}:${config.server.port}: `) +
        safeText(outcome.connectError, secrets),
    );
  }
  return exitCode;
}

/**
 * The `--remote-lock` (none for a dry run or a plan: they write nothing): the held lock,
 * or the exit code when another run holds it (4) or the server cannot be reached (3).
 */
async function takeRemoteLock(
  config: Config,
  io: Io,
  flags: RunFlags,
  password: string | undefined,
): Promise<HeldRemoteLock | number | undefined> {
  const want = config.options.remoteLock;
  if (want === undefined || flags.dryRun || flags.plan) return undefined;
  const { options } = config;
  const path = want === true
    ? defaultLockPath(config.files.map((f) => f.tree ? `${f.destination}/x` : f.destination))
    : want;
  try {
    return await acquireRemoteLock({
      login: serverLogin(config, password),
      timeoutMs: options.timeoutMs,
      retries: options.retries,
      path,
      ttlMs: options.remoteLockTtlMs ?? DEFAULT_REMOTE_LOCK_TTL_MS,
      breakStale: Boolean(flags.breakRemoteLock),
      log: (line) => io.err(safeText(line, [password])),
    });
  } catch (e) {
    io.err(safeText(e instanceof Error ? e.message : String(e), [password]));
    if (e instanceof RemoteLockHeld) return EXIT.locked;
    io.err(`could not take the remote lock ${path}; nothing was sent`);
    return EXIT.connect;
  }
}
