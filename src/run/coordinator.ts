/**
 * One run: checks the sources, plans the jobs, hands them to the worker pool
 * (`pool.ts`), and turns what came back into the report and the exit code.
 *
 * @module
 */

import type { UploadSettings } from "./messages.ts";
import { type CheckedSource, planJobs } from "../plan/plan.ts";
import { filesDigest, selectShard } from "../plan/shard.ts";
import { buildReport, type Report, type ReportFile } from "../report/report.ts";
import { checkSources, type LocalIdentity } from "./sources.ts";
import { Pool, type PoolResult } from "./pool.ts";
import { checkRemote } from "./remote_check.ts";
import { unsentReason } from "./progress.ts";
import { unsentResult } from "../upload/job.ts";
import { CANNOT_SET_TIMES_NOTE } from "../plan/skip.ts";
import type { Config } from "../config/types.ts";
import type { RunEvent } from "../report/events.ts";
import { isUtf8 } from "../ftp/encoding.ts";

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
  /**
   * What happens as it happens: `run-start`, one `file` per file as soon as it
   * is final (the same entry the report gets), `retry`, `reconnect`, and
   * `progress` a few times a second while workers run. The caller emits `run-end`.
   */
  onEvent?: (event: RunEvent) => void;
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
  const checked = checkSources(selectShard(config.files, shard));
  let jobs = planJobs(checked);
  let results = new Map<number, PoolResult>();
  let reconnects = 0;
  let connections = 0;
  let connectError: string | undefined;
  let interrupted: "SIGINT" | "SIGTERM" | undefined;
  const notes: string[] = [];
  const skipped = new Map<number, string>();
  const byIndex = new Map(checked.map((c) => [c.entry.index, c]));
  const emit = opts.onEvent ?? (() => {});
  // Each file's entry as told in its `file` event; the report reuses it, so the two agree.
  const told = new Map<number, ReportFile>();
  const tell = (c: CheckedSource, r?: PoolResult) => {
    const file = toReportFile(c, r, opts.dryRun, interrupted, skipped.get(c.entry.index));
    told.set(c.entry.index, file);
    emit({ type: "file", file });
  };
  emit({
    type: "run-start",
    files: checked.length,
    bytes: checked.reduce((n, c) => n + (c.ok ? c.size : 0), 0),
    workers: Math.max(1, Math.min(config.options.workers, jobs.length)),
    dryRun: Boolean(opts.dryRun),
  });
  // Known at once: missing sources, names the server's code page cannot hold.
  for (const c of checked) if (!c.ok || c.entry.unencodable) tell(c);

  // What is already on the server is not sent again (a dry run connects to nothing).
  if (!opts.dryRun && jobs.length > 0) {
    const settings = uploadSettings(opts);
    const check = await checkRemote({
      jobs,
      rule: config.options.skip,
      login: settings.server,
      timeoutMs: settings.timeoutMs,
      retries: settings.retries,
      connections: config.options.workers,
      log: opts.log,
      signal: opts.signal,
    });
    if (check.loginRefused) {
      connectError = check.loginRefused;
      const reason = unsentReason({ connected: false, connectError, interrupted: false });
      for (const job of jobs) results.set(job.id, { ...unsentResult(job, reason), worker: 0 });
    }
    jobs = check.loginRefused ? [] : check.send;
    for (const s of check.skipped) skipped.set(s.job.id, s.reason);
    for (const s of check.skipped) tell(byIndex.get(s.job.id) as CheckedSource);
    notes.push(...check.notes);
    if (check.skipped.length > 0) {
      opts.log?.(`already on the server, not sent: ${check.skipped.length} file(s)`);
    }
  }
  const workers = Math.max(1, Math.min(config.options.workers, jobs.length));

  if (!opts.dryRun && jobs.length > 0 && opts.signal?.aborted) {
    interrupted = signalName(opts.signal.reason); // during the skip phase: nothing sent
  } else if (!opts.dryRun && jobs.length > 0) {
    for (const job of jobs) {
      const { ino, ctimeMs } = byIndex.get(job.id) as LocalIdentity;
      if (ino !== undefined) job.ino = ino;
      if (ctimeMs !== undefined) job.ctimeMs = ctimeMs;
    }
    const pool = new Pool({
      settings: uploadSettings(opts),
      workers,
      log: opts.log,
      onEvent: opts.onEvent,
      onResult: (id, r) => tell(byIndex.get(id) as CheckedSource, r),
      signal: opts.signal,
      workerUrl: opts.workerUrl ?? DEFAULT_WORKER,
    }, jobs);
    ({ results, reconnects, interrupted, connectError, peakConnections: connections } = await pool
      .run());
  }

  // Said once, whether the skip phase or an upload found it out.
  if ([...results.values()].some((r) => r.timeSet === "unsupported")) {
    if (!notes.includes(CANNOT_SET_TIMES_NOTE)) notes.push(CANNOT_SET_TIMES_NOTE);
  }
  // The files no worker answered for (dry run, interrupted, login refused) are told now.
  for (const c of checked) if (!told.has(c.entry.index)) tell(c, results.get(c.entry.index));
  const files = checked.map((c) => told.get(c.entry.index) as ReportFile);
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
    notes,
    dryRun: opts.dryRun,
    interrupted,
    reconnects,
    connectFailed: Boolean(connectError),
    ...(shard ? { shard: { ...shard, digest: filesDigest(config.files) } } : {}),
    files,
  });
  const exitCode = report.exitCode;
  return { report, exitCode, ...(connectError ? { connectError } : {}) };
}

function signalName(reason: unknown): "SIGINT" | "SIGTERM" {
  return reason === "SIGTERM" ? "SIGTERM" : "SIGINT";
}

function toReportFile(
  c: CheckedSource,
  r: PoolResult | undefined,
  dryRun: boolean | undefined,
  interrupted: string | undefined,
  skipReason: string | undefined,
): ReportFile {
  const base = { source: c.entry.source, destination: c.entry.destination };
  const unsent = (
    status: ReportFile["status"],
    size: number,
    more: { error?: string; reason?: string } = {},
  ): ReportFile => ({
    ...base,
    status,
    size,
    bytesSent: 0,
    attempts: 0,
    resumedFrom: [],
    worker: 0,
    durationMs: 0,
    ...more,
  });
  if (!c.ok) return unsent("missing", 0, { error: `source ${c.reason}` });
  // A name the server's code page cannot represent (config validation found it): never sent.
  if (c.entry.unencodable) return unsent("failed", c.size, { error: c.entry.unencodable });
  // Already on the server: nothing sent, the reason kept.
  if (skipReason !== undefined) return unsent("skipped", c.size, { reason: skipReason });
  if (!r) {
    // A dry run sends nothing: its files are planned, which is not "skipped" (already there).
    if (dryRun) return unsent("planned", c.size);
    return unsent("failed", c.size, { error: interrupted ? "interrupted" : "not attempted" });
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
