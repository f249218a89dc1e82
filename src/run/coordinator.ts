/**
 * One run: checks the sources, plans the jobs, hands them to the worker pool
 * (`pool.ts`), and turns what came back into the report and the exit code.
 * Folder sources are walked while the pool runs and their files streamed in
 * (`folder_feed.ts`, skip rules per chunk in `folder_skip.ts`); listed files
 * go first, largest first.
 *
 * @module
 */

import { posix } from "node:path";
import type { UploadSettings } from "./messages.ts";
import { type CheckedSource, planJobs } from "../plan/plan.ts";
import { filesDigest } from "../plan/shard.ts";
import { buildReport, EXIT, type Report, type ReportFile } from "../report/report.ts";
import type { LocalIdentity } from "./sources.ts";
import { FolderFeed } from "./folder_feed.ts";
import { assembleFiles, sortEntries } from "./folder_sources.ts";
import { skipScreen } from "./folder_skip.ts";
import type { WalkHook } from "./walk.ts";
import { Pool, type PoolResult } from "./pool.ts";
import { checkRemote } from "./remote_check.ts";
import { unsentReason } from "./progress.ts";
import { unsentResult } from "../upload/job.ts";
import { CANNOT_SET_TIMES_NOTE } from "../plan/skip.ts";
import type { Config } from "../config/types.ts";
import type { RunEvent } from "../report/events.ts";
import { FileTeller } from "./file_teller.ts";
import { isUtf8 } from "../ftp/encoding.ts";
import { destinationCheck } from "../config/encoding.ts";
import { deployDeletionStep } from "./deploy_steps.ts";
import { ContentSkip } from "./deploy_manifest.ts";

export interface RunOptions {
  config: Config;
  /** Resolved password, kept out of every log and report. */
  password?: string;
  dryRun?: boolean;
  /** `--plan`: connect, list and decide like a run, change nothing; report what it would do. */
  plan?: boolean;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Abort with reason "SIGINT" or "SIGTERM" to interrupt the run. */
  signal?: AbortSignal;
  /** Worker module; tests swap in a faulty build. */
  workerUrl?: URL;
  /** Test hook: sees every item the folder walk yields. */
  walkHook?: WalkHook;
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
  const { checked, folders } = sortEntries(config);
  let jobs = planJobs(checked);
  let results = new Map<number, PoolResult>();
  let reconnects = 0;
  let connections = 0;
  let connectError: string | undefined;
  let interrupted: "SIGINT" | "SIGTERM" | undefined;
  const notes: string[] = [];
  const skipped = new Map<number, string>();
  let deletionsRefused = false;
  const settings = uploadSettings(opts);
  // skip "hash": the server's hashes or the deploy manifest decide (deploy_manifest.ts).
  const content = config.options.skip === "hash" && !opts.dryRun
    ? new ContentSkip({
      login: settings.server,
      timeoutMs: settings.timeoutMs,
      retries: settings.retries,
      roots: config.files.map((f) => f.tree ? f.destination : posix.dirname(f.destination)),
      shard,
      readOnly: Boolean(opts.plan),
      log: opts.log,
    })
    : undefined;
  const remote = {
    rule: config.options.skip,
    ...(content ? { content } : {}),
    // A plan writes nothing: not even the time probe's empty file.
    ...(opts.plan ? { readOnly: true } : {}),
    login: settings.server,
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    log: opts.log,
    signal: opts.signal,
  };
  const feed = new FolderFeed(folders, {
    shard,
    listed: new Set(checked.map((c) => c.entry.destination)),
    // This run's own outputs are not sources, even inside a source folder.
    ignore: new Set([config.options.report, config.options.lock].filter((p) => p !== undefined)),
    firstId: config.files.length,
    log: opts.log,
    hook: opts.walkHook,
    ...(folders.length > 0 ? { unencodable: await destinationCheck(config.server) } : {}),
    ...(!opts.dryRun && config.options.skip !== "none"
      ? { screen: content ? content.screen(skipScreen(remote, notes)) : skipScreen(remote, notes) }
      : {}),
  });
  const emit = opts.onEvent ?? (() => {});
  const teller = new FileTeller(
    emit,
    checked,
    feed,
    (c, id) =>
      toReportFile(
        c,
        results.get(id),
        opts.dryRun || opts.plan,
        interrupted,
        skipped.get(id) ?? feed.skipped.get(id),
      ),
  );
  emit({
    type: "run-start",
    ...teller.known,
    workers: Math.max(
      1,
      Math.min(config.options.workers, folders.length > 0 ? Infinity : jobs.length),
    ),
    dryRun: Boolean(opts.dryRun),
    ...(folders.length > 0 ? { folders: folders.length } : {}),
  });
  // Known at once: missing sources, names the server's code page cannot hold.
  for (const c of checked) if (!c.ok || c.entry.unencodable) teller.tell(c.entry.index);

  // What is already on the server is not sent again (a dry run connects to nothing).
  if (!opts.dryRun && jobs.length > 0) {
    const check = await checkRemote({ ...remote, jobs, connections: config.options.workers });
    if (check.loginRefused) {
      connectError = check.loginRefused;
      const reason = unsentReason({ connected: false, connectError, interrupted: false });
      for (const job of jobs) results.set(job.id, { ...unsentResult(job, reason), worker: 0 });
    }
    jobs = check.loginRefused ? [] : check.send;
    content?.expect(jobs);
    for (const s of check.skipped) skipped.set(s.job.id, s.reason);
    for (const s of check.skipped) teller.tell(s.job.id);
    notes.push(...check.notes);
    if (check.skipped.length > 0) {
      opts.log?.(`already on the server, not sent: ${check.skipped.length} file(s)`);
    }
  }
  const work = jobs.length + (connectError ? 0 : folders.length);
  const workers = Math.max(
    1,
    Math.min(config.options.workers, folders.length > 0 ? Infinity : jobs.length),
  );

  if (!opts.dryRun && work > 0 && opts.signal?.aborted) {
    interrupted = signalName(opts.signal.reason); // during the skip phase: nothing sent
  } else if (!opts.dryRun && !opts.plan && work > 0) {
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
      onEvent: (e) => e.type === "progress" ? teller.progress(e) : emit(e),
      onResult: (id, r) => {
        results.set(id, r);
        content?.settled(id, r.status);
        teller.tell(id);
      },
      signal: opts.signal,
      workerUrl: opts.workerUrl ?? DEFAULT_WORKER,
      ...(folders.length > 0 ? { feed } : {}),
    }, jobs);
    ({ results, reconnects, interrupted, connectError, peakConnections: connections } = await pool
      .run());
  }
  // The files the pool never pulled are reported too (a stopped run's walk is not finished).
  if (!interrupted) await feed.drain();
  if (feed.skipped.size > 0) {
    opts.log?.(`already on the server, not sent: ${feed.skipped.size} walked file(s)`);
  }

  // Said once, whether the skip phase or an upload found it out.
  if ([...results.values()].some((r) => r.timeSet === "unsupported")) {
    if (!notes.includes(CANNOT_SET_TIMES_NOTE)) notes.push(CANNOT_SET_TIMES_NOTE);
  }
  const { files, entries } = assembleFiles(
    checked,
    folders,
    feed.files,
    feed.tallies,
    // The files told already keep their entry; those no worker answered for are told now.
    teller.final,
  );
  if (!opts.dryRun) {
    const step = await deployDeletionStep({
      config,
      login: settings.server,
      folders,
      entries,
      files,
      plan: Boolean(opts.plan),
      interrupted,
      connectError,
      signal: opts.signal,
      log: opts.log,
      onRecord: (file) => {
        if (file.status === "deleted") content?.forget(file.destination);
        files.push(file);
        emit({ type: "file", file });
      },
    });
    notes.push(...step.notes);
    deletionsRefused = step.refused !== undefined;
  }
  if (content) {
    await content.close();
    notes.push(...content.notes);
  }
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
    plan: opts.plan,
    interrupted,
    reconnects,
    connectFailed: Boolean(connectError),
    ...(shard ? { shard: { ...shard, digest: filesDigest(config.files) } } : {}),
    entries,
    files,
  });
  if (deletionsRefused && report.exitCode === EXIT.ok) report.exitCode = EXIT.deletionsRefused;
  if (folders.some((f) => f.entry.tree?.mirror) && !opts.dryRun) {
    report.totals.deleted ??= 0;
    report.totals.plannedDeletions ??= 0;
  }
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
