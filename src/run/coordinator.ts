/**
 * One run: checks the sources, plans the jobs, hands them to the worker pool
 * (`pool.ts`), and turns what came back into the report and the exit code.
 * Folder sources are walked while the pool runs and their files streamed in
 * (`folder_jobs.ts`, skip rules per chunk in `folder_skip.ts`); listed files
 * go first, largest first.
 *
 * @module
 */

import { posix } from "node:path";
import type { UploadSettings } from "./pool/messages.ts";
import { planJobs } from "../plan/plan.ts";
import { filesDigest } from "../plan/shard.ts";
import { type Report, reportHead, type ReportSummary, reportTail } from "../report/report.ts";
import { ReportTally } from "../report/report_tally.ts";
import { ReportCollector } from "../report/collector.ts";
import { type ReportSink, temporaryName } from "../report/report_writer.ts";
import { configDigest } from "../report/config_digest.ts";
import type { LocalIdentity } from "./sources/sources.ts";
import { FolderJobs, type WalkedFile } from "./sources/folder_jobs.ts";
import { sortEntries } from "./sources/folder_sources.ts";
import { skipFilter } from "./skip/folder_skip.ts";
import type { WalkHook } from "./sources/walk.ts";
import { Pool } from "./pool/pool.ts";
import { warmWorkers } from "./pool/warm_workers.ts";
import { checkRemote } from "./skip/remote_check.ts";
import { unsentReason } from "../report/run_messages.ts";
import { unsentResult } from "../upload/job.ts";
import { CANNOT_SET_TIMES_NOTE } from "../plan/skip.ts";
import { newServerClock } from "../plan/server_clock.ts";
import type { Config } from "../config/types.ts";
import type { RunEvent } from "../report/events.ts";
import { FileReporter } from "../report/file_reporter.ts";
import { isUtf8 } from "../ftp/encoding.ts";
import { sharedBandwidth } from "../ftp/bandwidth.ts";
import type { ActiveSettings } from "../ftp/active.ts";
import { EPSV_FALLBACK_NOTE, epsvFellBack, epsvMemory } from "../ftp/passive.ts";
import { destinationCheck } from "../config/encoding.ts";
import { deployDeletionStep } from "./deploy/deploy_steps.ts";
import { ContentSkip } from "./deploy/deploy_manifest.ts";
import { EXIT, type ReportFile } from "../report/report.ts";

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
  /**
   * Where each file's record goes as soon as it is final (the report file,
   * `ReportWriter`). Without one, the records are kept and returned in
   * `RunOutcome.report.files` (config order): for tests and small runs.
   */
  sink?: ReportSink;
  /**
   * Count the folder sources' files ahead of the walk (a second walk, names
   * and sizes), so `progress` events carry the total early: for a progress
   * line that shows it.
   */
  countAhead?: boolean;
}

export interface RunOutcome {
  /** The report; its `files` are empty when they went to `RunOptions.sink`. */
  report: Report;
  /** Totals and the first problems, for the summary. */
  summary: ReportSummary;
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
  let reconnects = 0;
  let connections = 0;
  let connectError: string | undefined;
  let interrupted: "SIGINT" | "SIGTERM" | undefined;
  let timesUnsupported = false;
  const notes: string[] = [];
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
    // A plan writes nothing: not even the time probe's empty file.
    ...(opts.plan ? { readOnly: true } : {}),
    ...(content ? { content } : {}),
    login: settings.server,
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    backoffBaseMs: settings.backoffBaseMs,
    backoffMaxMs: settings.backoffMaxMs,
    log: opts.log,
    signal: opts.signal,
    // One per run: the server's time zones are learned once, by the first check that needs them.
    clock: newServerClock(config.server.listTimeZone),
  };
  const server = {
    host: config.server.host,
    port: config.server.port,
    user: config.server.user ?? "anonymous",
    secure: config.server.secure,
    ...(isUtf8(config.server.encoding) ? {} : { encoding: config.server.encoding }),
  };
  const head = reportHead({
    startedAt,
    server,
    dryRun: opts.dryRun,
    plan: opts.plan,
    ...(shard
      ? { shard: { ...shard, digest: filesDigest(config.files), config: configDigest(config) } }
      : {}),
  });
  const tally = new ReportTally(
    folders.map((f) => ({ index: f.entry.index, source: f.entry.source, destination: f.remote })),
  );
  const collector = opts.sink ? undefined : new ReportCollector();
  opts.sink?.begin(head);
  const emit = opts.onEvent ?? (() => {});
  const reporter = new FileReporter(emit, checked, (file, c, id) => {
    tally.add(file, c.entry.index);
    if (opts.sink) opts.sink.file(file);
    else collector!.add(file, c.entry.index, id);
  }, { dryRun: opts.dryRun || opts.plan });
  const folderJobs = new FolderJobs(folders, {
    shard,
    listed: new Set(checked.map((c) => c.entry.destination)),
    // This run's own outputs are not sources, even inside a source folder.
    ignore: outputsOf(config),
    firstId: config.files.length,
    log: opts.log,
    hook: opts.walkHook,
    statAhead: Boolean(opts.dryRun),
    onFile: (w: WalkedFile) => {
      reporter.walked(w, w.id);
      if (!w.ok || w.entry.unencodable) reporter.report(w.id);
    },
    onSkipped: (id, reason) => reporter.report(id, { skipReason: reason }),
    ...(folders.length > 0 ? { unencodable: await destinationCheck(config.server) } : {}),
    ...(!opts.dryRun && config.options.skip !== "none"
      ? {
        skipFilter: content ? content.filter(skipFilter(remote, notes)) : skipFilter(remote, notes),
      }
      : {}),
  });
  emit({
    type: "run-start",
    ...reporter.known,
    workers: Math.max(
      1,
      Math.min(config.options.workers, folders.length > 0 ? Infinity : jobs.length),
    ),
    dryRun: Boolean(opts.dryRun),
    ...(folders.length > 0 ? { folders: folders.length } : {}),
  });
  // Known at once: missing sources, names the server's code page cannot hold.
  for (const c of checked) if (!c.ok || c.entry.unencodable) reporter.report(c.entry.index);

  // What is already on the server is not sent again (a dry run connects to nothing).
  // The first worker loads while the skip phase waits on the server (or since main.ts began);
  // the others once the skip phase finds a folder missing (something will be sent), so that
  // a re-run with nothing to send does not pay for them.
  const warmCount = Math.min(config.options.workers, folders.length > 0 ? Infinity : jobs.length);
  const warm = !opts.dryRun && jobs.length + folders.length > 0
    ? warmWorkers(
      opts.workerUrl ?? DEFAULT_WORKER,
      jobs.length > 0 && config.options.skip !== "none" ? 1 : warmCount,
    )
    : undefined;
  const checking = !opts.dryRun && jobs.length > 0
    ? checkRemote({
      ...remote,
      jobs,
      connections: config.options.workers,
      onMissing: () => warm?.grow(warmCount),
    })
    : undefined;
  if (checking) {
    const check = await checking.catch((e) => {
      warm?.close();
      throw e;
    });
    if (check.loginRefused) {
      connectError = check.loginRefused;
      const reason = unsentReason({ connected: false, connectError, interrupted: false });
      for (const job of jobs) {
        reporter.report(job.id, { result: { ...unsentResult(job, reason), worker: 0 } });
      }
    }
    jobs = check.loginRefused ? [] : check.send;
    content?.expect(jobs);
    for (const s of check.skipped) reporter.report(s.job.id, { skipReason: s.reason });
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
    // The total of the folder walks, known early for the progress line (a second, cheap walk).
    let poolDone = false;
    const counting = folders.length > 0 && opts.countAhead
      ? folderJobs.countAhead((f, b) => reporter.countedAhead(f, b), () => poolDone)
      : Promise.resolve();
    const pool = new Pool({
      // The same settings as the skip phase: one rate limit, one memory of EPSV for the run.
      settings,
      workers,
      log: opts.log,
      onEvent: (e) => e.type === "progress" ? reporter.progress(e) : emit(e),
      onResult: (id, result) => {
        if (result.timeSet === "unsupported") timesUnsupported = true;
        content?.settled(id, result.status);
        reporter.report(id, { result });
      },
      signal: opts.signal,
      workerUrl: opts.workerUrl ?? DEFAULT_WORKER,
      ...(folders.length > 0 ? { stream: folderJobs } : {}),
      ...(warm ? { warm } : {}),
    }, jobs);
    try {
      ({ reconnects, interrupted, connectError, peakConnections: connections } = await pool.run());
    } finally {
      warm?.close();
    }
    poolDone = true;
    await counting.catch(() => {}); // a folder that vanished meanwhile: the walk reports it
  }
  warm?.close(); // those not taken: everything skipped, the login refused, or fewer files
  // The files the pool never pulled are reported too (a stopped run's walk is not finished).
  reporter.reportRest({ interrupted: Boolean(interrupted) });
  if (!interrupted) await folderJobs.drain((jobs) => jobs.forEach((j) => reporter.report(j.id)));
  await folderJobs.close();
  notes.push(...folderJobs.notes);
  if (folderJobs.skippedCount > 0) {
    opts.log?.(`already on the server, not sent: ${folderJobs.skippedCount} walked file(s)`);
  }

  // Said once, whether the skip phase or an upload found it out.
  if (timesUnsupported && !notes.includes(CANNOT_SET_TIMES_NOTE)) notes.push(CANNOT_SET_TIMES_NOTE);
  if (epsvFellBack(settings.server.epsvLearned)) notes.push(EPSV_FALLBACK_NOTE);
  tally.totals.reconnects = reconnects;
  const extras = (index: number) =>
    folderJobs.tallies[folders.findIndex((f) => f.entry.index === index)];
  let deletionsRefused = false;
  if (!opts.dryRun) {
    let order = 0;
    const step = await deployDeletionStep({
      config,
      login: settings.server,
      folders,
      entries: tally.entries(extras),
      failedOrMissing: tally.totals.failed + tally.totals.missing,
      plan: Boolean(opts.plan),
      interrupted,
      connectError,
      signal: opts.signal,
      log: opts.log,
      onRecord: (file: ReportFile, entry: number) => {
        if (file.status === "deleted") content?.forget(file.destination);
        tally.add(file, entry);
        emit({ type: "file", file });
        if (opts.sink) opts.sink.file(file);
        else collector!.add(file, entry, Number.MAX_SAFE_INTEGER - 1e6 + order++);
      },
    });
    notes.push(...step.notes);
    deletionsRefused = step.refused !== undefined;
    if (folders.some((f) => f.entry.tree?.mirror)) {
      tally.totals.deleted ??= 0;
      tally.totals.plannedDeletions ??= 0;
    }
  }
  if (content) {
    await content.close();
    notes.push(...content.notes);
  }
  const entries = tally.entries(extras);
  const tail = reportTail(
    {
      startedAt,
      finishedAt: new Date(),
      // The connections that actually logged in (at most at once), not the number asked for.
      workers: opts.dryRun ? workers : connections,
      notes,
      interrupted,
      reconnects,
      connectFailed: Boolean(connectError),
    },
    tally.totals,
    entries,
  );
  if (deletionsRefused && tail.exitCode === EXIT.ok) tail.exitCode = EXIT.deletionsRefused;
  const report: Report = { ...head, files: collector?.files() ?? [], ...tail };
  const summary: ReportSummary = {
    ...head,
    ...tail,
    problems: tally.problems,
    problemCount: tally.problemCount,
    plannedBytes: tally.plannedBytes,
  };
  return { report, summary, exitCode: tail.exitCode, ...(connectError ? { connectError } : {}) };
}

/** The run's own files (report, lock, and the report's temporary name): never sources. */
function outputsOf(config: Config): Set<string> {
  const { report, lock } = config.options;
  const paths = [report, lock].filter((p) => p !== undefined);
  if (report) paths.push(temporaryName(report));
  return new Set(paths);
}

function signalName(reason: unknown): "SIGINT" | "SIGTERM" {
  return reason === "SIGTERM" ? "SIGTERM" : "SIGINT";
}

/** `server.active` with its NAT keys, for the FTP layer (`ftp/active.ts`). */
function activeSettings(server: Config["server"]): ActiveSettings {
  return {
    ...(server.activeAddress ? { address: server.activeAddress } : {}),
    ...(server.activePorts ? { ports: server.activePorts } : {}),
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
      // One limit for all connections: the workers share its bucket (`ftp/bandwidth.ts`).
      ...(options.bwlimit ? { bandwidth: sharedBandwidth(options.bwlimit) } : {}),
      // PASV only (`server.epsv`), or learned once for the run (`ftp/passive.ts`).
      ...(server.epsv === false ? { epsv: false } : { epsvLearned: epsvMemory() }),
      ...(server.active ? { active: activeSettings(server) } : {}),
    },
    retries: options.retries,
    atomic: options.atomic,
    verify: options.verify,
    backoffBaseMs: options.backoffBaseMs,
    backoffMaxMs: options.backoffMaxMs,
    timeoutMs: options.timeoutMs,
  };
}
