/**
 * One run: checks the sources, plans the jobs, hands them to the worker pool
 * (`pool.ts`), and turns what came back into the report and the exit code.
 * Folder sources are walked while the pool runs and their files streamed in
 * (`folder_feed.ts`); listed files go first, largest first.
 *
 * @module
 */

import type { UploadSettings } from "./messages.ts";
import { type CheckedSource, planJobs } from "../plan/plan.ts";
import { filesDigest } from "../plan/shard.ts";
import { buildReport, type Report, type ReportFile } from "../report/report.ts";
import type { LocalIdentity } from "./sources.ts";
import { FolderFeed } from "./folder_feed.ts";
import { assembleFiles, sortEntries } from "./folder_sources.ts";
import type { WalkHook } from "./walk.ts";
import { Pool, type PoolResult } from "./pool.ts";
import type { Config } from "../config/types.ts";
import { isUtf8 } from "../ftp/encoding.ts";
import { destinationCheck } from "../config/encoding.ts";

export interface RunOptions {
  config: Config;
  /** Resolved password, kept out of every log and report. */
  password?: string;
  dryRun?: boolean;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Abort with reason "SIGINT" or "SIGTERM" to interrupt the run. */
  signal?: AbortSignal;
  /** Worker module; tests swap in a faulty build. */
  workerUrl?: URL;
  /** Test hook: sees every item the folder walk yields. */
  walkHook?: WalkHook;
}

export interface RunOutcome {
  report: Report;
  exitCode: number;
  /** Set when no connection could be made at all (exit 3). */
  connectError?: string;
}

const DEFAULT_WORKER = new URL("../../workers/upload_worker.ts", import.meta.url);

/** Runs the whole job described by `config`. Never throws for per-file problems. */
export async function runUpload(opts: RunOptions): Promise<RunOutcome> {
  const startedAt = new Date();
  const { config } = opts;
  const shard = config.options.shard;
  const { checked, folders } = sortEntries(config);
  const jobs = planJobs(checked);
  const feed = new FolderFeed(folders, {
    shard,
    listed: new Set(checked.map((c) => c.entry.destination)),
    // This run's own outputs are not sources, even inside a source folder.
    ignore: new Set([config.options.report, config.options.lock].filter((p) => p !== undefined)),
    firstId: config.files.length,
    log: opts.log,
    hook: opts.walkHook,
    ...(folders.length > 0 ? { unencodable: await destinationCheck(config.server) } : {}),
  });
  const workers = Math.max(
    1,
    Math.min(config.options.workers, folders.length > 0 ? Infinity : jobs.length),
  );
  let results = new Map<number, PoolResult>();
  let reconnects = 0;
  let connections = 0;
  let connectError: string | undefined;
  let interrupted: "SIGINT" | "SIGTERM" | undefined;

  if (!opts.dryRun && jobs.length + folders.length > 0) {
    const identity = new Map(checked.map((c) => [c.entry.index, c]));
    for (const job of jobs) {
      const { ino, ctimeMs } = identity.get(job.id) as LocalIdentity;
      if (ino !== undefined) job.ino = ino;
      if (ctimeMs !== undefined) job.ctimeMs = ctimeMs;
    }
    const pool = new Pool({
      settings: uploadSettings(opts),
      workers,
      log: opts.log,
      signal: opts.signal,
      workerUrl: opts.workerUrl ?? DEFAULT_WORKER,
      ...(folders.length > 0 ? { feed } : {}),
    }, jobs);
    ({ results, reconnects, interrupted, connectError, peakConnections: connections } = await pool
      .run());
  }
  // The files the pool never pulled are reported too (a stopped run's walk is not finished).
  if (!interrupted) await feed.drain();

  const { files, entries } = assembleFiles(
    checked,
    folders,
    feed.files,
    feed.tallies,
    (c, id) => toReportFile(c, results.get(id), opts.dryRun, interrupted),
  );
  const report = buildReport({
    startedAt,
    finishedAt: new Date(),
    server: {
      host: config.server.host,
      port: config.server.port,
      user: config.server.user ?? "anonymous",
      secure: config.server.secure,
      ...(isUtf8(config.server.encoding) ? {} : { encoding: config.server.encoding }),
    },
    // The connections that actually logged in (at most at once), not the number asked for.
    workers: opts.dryRun ? workers : connections,
    dryRun: opts.dryRun,
    interrupted,
    reconnects,
    connectFailed: Boolean(connectError),
    ...(shard ? { shard: { ...shard, digest: filesDigest(config.files) } } : {}),
    entries,
    files,
  });
  const exitCode = report.exitCode;
  return { report, exitCode, ...(connectError ? { connectError } : {}) };
}

function toReportFile(
  c: CheckedSource,
  r: PoolResult | undefined,
  dryRun: boolean | undefined,
  interrupted: string | undefined,
): ReportFile {
  const base = { source: c.entry.source, destination: c.entry.destination };
  const unsent = (status: ReportFile["status"], size: number, error: string): ReportFile => ({
    ...base,
    status,
    size,
    bytesSent: 0,
    attempts: 0,
    resumedFrom: [],
    worker: 0,
    durationMs: 0,
    error,
  });
  if (!c.ok) return unsent("missing", 0, `source ${c.reason}`);
  // A name the server's code page cannot represent (config validation found it): never sent.
  if (c.entry.unencodable) return unsent("failed", c.size, c.entry.unencodable);
  if (!r) {
    return unsent(
      dryRun ? "skipped" : "failed",
      c.size,
      dryRun ? "dry run" : interrupted ? "interrupted" : "not attempted",
    );
  }
  return {
    ...base,
    status: r.status,
    size: c.size,
    bytesSent: r.bytesSent,
    attempts: r.attempts,
    resumedFrom: r.resumedFrom,
    worker: r.worker,
    durationMs: r.durationMs,
    ...(r.verified ? { verified: r.verified } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

/** What every uploader is told at start. */
function uploadSettings(opts: RunOptions): UploadSettings {
  const { server, options } = opts.config;
  return {
    server: {
      host: server.host,
      port: server.port,
      user: server.user,
      password: opts.password,
      secure: server.secure,
      encoding: server.encoding,
    },
    retries: options.retries,
    atomic: options.atomic,
    verify: options.verify,
    backoffBaseMs: options.backoffBaseMs,
    backoffMaxMs: options.backoffMaxMs,
    timeoutMs: options.timeoutMs,
  };
}
