/**
 * One run: checks the sources, plans the jobs, hands them to the worker pool
 * (`pool.ts`), and turns what came back into the report and the exit code.
 * Folder sources are walked while the pool runs and their files streamed in
 * (`folder_jobs.ts`, skip rules per chunk in `folder_skip.ts`); listed files
 * go first, largest first.
 *
 * @module
 */

import type { UploadSettings } from "./pool/messages.ts";
import { type CheckedSource, planJobs } from "../plan/plan.ts";
import type { ReportFile, ReportHead } from "../report/report.ts";
import type { EntryExtras } from "../report/report_tally.ts";
import { RunRecords } from "../report/run_records.ts";
import type { LocalIdentity } from "./sources/sources.ts";
import { FolderJobs, type FolderSource, type WalkedFile } from "./sources/folder_jobs.ts";
import { sortEntries } from "./sources/folder_sources.ts";
import { skipFilter } from "./skip/folder_skip.ts";
import { Pool } from "./pool/pool.ts";
import { type WarmWorkers, warmWorkers } from "./pool/warm_workers.ts";
import { uploadWorkerModule } from "./pool/inline_worker.ts";
import { checkRemote, type RemoteCheckOptions } from "./skip/remote_check.ts";
import { checkOnWorker } from "./skip/worker_check.ts";
import { unsentReason } from "../report/run_messages.ts";
import { unsentResult, type UploadJob } from "../upload/job.ts";
import { CANNOT_SET_TIMES_NOTE } from "../plan/skip.ts";
import type { Config } from "../config/types.ts";
import type { RunEvent } from "../report/events.ts";
import { FileReporter } from "../report/file_reporter.ts";
import { EPSV_FALLBACK_NOTE, epsvFellBack } from "../ftp/passive.ts";
import { destinationCheck } from "../config/encoding.ts";
import { deployDeletionStep } from "./deploy/deploy_steps.ts";
import type { ContentSkip } from "./deploy/deploy_manifest.ts";
import {
  contentSkip,
  outputsOf,
  remoteOptions,
  runHead,
  type RunOptions,
  type RunOutcome,
  uploadSettings,
} from "./run_settings.ts";

export type { RunOptions, RunOutcome } from "./run_settings.ts";

/** Runs the whole job described by `config`. Never throws for per-file problems. */
export async function runUpload(opts: RunOptions): Promise<RunOutcome> {
  const startedAt = new Date();
  return await new Run(opts, startedAt, await runHead(opts.config, startedAt, opts)).run();
}

/** What the pool phase learned: how the connections fared, whether the run was stopped. */
interface Sent {
  reconnects: number;
  /** The most connections logged in at once. */
  connections: number;
  interrupted?: "SIGINT" | "SIGTERM";
  connectError?: string;
}

/** One run, phase by phase: the skip phase, the pool, the rest of the walk, the deploy step. */
class Run {
  readonly config: Config;
  readonly checked: CheckedSource[];
  readonly folders: FolderSource[];
  readonly settings: UploadSettings;
  /** Where the upload workers run: inline, or Web Workers of this module (`inline_worker.ts`). */
  readonly workerModule: URL | "inline";
  /** `skip: "hash"`: the server's hashes or the deploy manifest decide (`deploy_manifest.ts`). */
  readonly content?: ContentSkip;
  /** How the skip phase and the skip filter reach the server. */
  readonly remote: Omit<RemoteCheckOptions, "jobs" | "connections">;
  readonly records: RunRecords;
  readonly reporter: FileReporter;
  readonly emit: (event: RunEvent) => void;
  /** Said once in the report. */
  readonly notes: string[] = [];
  /** Some upload found the server cannot set times. */
  timesUnsupported = false;
  #folderJobs?: FolderJobs;

  /** `head`: {@linkcode runHead}'s, made before (its shard digests are async). */
  constructor(readonly opts: RunOptions, readonly startedAt: Date, head: ReportHead) {
    this.config = opts.config;
    ({ checked: this.checked, folders: this.folders } = opts.sorted ?? sortEntries(this.config));
    this.settings = uploadSettings(opts);
    this.workerModule = uploadWorkerModule(opts.workerUrl, opts.config.server.secure);
    this.content = contentSkip(opts, this.settings);
    this.remote = remoteOptions(opts, this.settings, this.content);
    this.records = new RunRecords(
      head,
      this.folders.map((f) => ({
        index: f.entry.index,
        source: f.entry.source,
        destination: f.remote,
      })),
      opts.sink,
    );
    this.emit = opts.onEvent ?? (() => {});
    this.reporter = new FileReporter(
      this.emit,
      this.checked,
      (file, c, id) => this.records.add(file, c.entry.index, id),
      { dryRun: opts.dryRun || opts.plan },
    );
  }

  get folderJobs(): FolderJobs {
    return this.#folderJobs!;
  }

  async run(): Promise<RunOutcome> {
    const { opts, folders, reporter } = this;
    let jobs = planJobs(this.checked);
    this.#folderJobs = await this.#walk();
    this.emit({
      type: "run-start",
      ...reporter.known,
      workers: this.#workers(jobs),
      dryRun: Boolean(opts.dryRun),
      ...(folders.length > 0 ? { folders: folders.length } : {}),
    });
    // Known at once: missing sources, names the server's code page cannot hold.
    for (const c of this.checked) if (!c.ok || c.entry.unencodable) reporter.report(c.entry.index);

    // The first worker loads while the skip phase waits on the server (or since main.ts began);
    // the others once the skip phase finds a folder missing (something will be sent), so that
    // a re-run with nothing to send does not pay for them.
    const warmCount = this.#workers(jobs, 0);
    const module = this.workerModule;
    // Inline workers load nothing ahead; one is made early only for the skip check to ride on.
    const ahead = module !== "inline" || (jobs.length > 0 && this.#checkOnWorker);
    const warm = ahead && !opts.dryRun && jobs.length + folders.length > 0
      ? warmWorkers(
        module,
        jobs.length > 0 && this.config.options.skip !== "none" ? 1 : warmCount,
      )
      : undefined;
    let sent: Sent = { reconnects: 0, connections: 0 };
    try {
      let connectError: string | undefined;
      ({ jobs, connectError } = await this.#skipPhase(jobs, warm, () => warm?.grow(warmCount)));
      sent = { ...sent, ...(connectError ? { connectError } : {}) };
      const work = jobs.length + (connectError ? 0 : folders.length);
      if (!opts.dryRun && work > 0 && opts.signal?.aborted) {
        sent.interrupted = signalName(opts.signal.reason); // during the skip phase: nothing sent
      } else if (!opts.dryRun && !opts.plan && work > 0) {
        sent = { ...sent, ...await this.#pool(jobs, warm) };
      }
    } finally {
      // Those not taken (everything skipped, the login refused, fewer files) are ended, after a
      // QUIT where they logged in.
      await warm?.close();
    }
    await this.#walkRest(sent.interrupted);
    return await this.#finish(sent, this.#workers(jobs));
  }

  /**
   * The listed files' skip check runs on the first worker's login (`worker_check.ts`); a plan
   * starts no worker, "hash" decides with the deploy manifest's connection, "none" checks nothing.
   */
  get #checkOnWorker(): boolean {
    return !this.opts.plan && !this.content && this.config.options.skip !== "none";
  }

  /** Connections for `jobs`: as configured, fewer for fewer listed files, at least `least`. */
  #workers(jobs: UploadJob[], least = 1): number {
    const cap = this.folders.length > 0 ? Infinity : jobs.length;
    return Math.max(least, Math.min(this.config.options.workers, cap));
  }

  /** The folder sources as a stream of jobs, each chunk through the skip filter. */
  async #walk(): Promise<FolderJobs> {
    const { opts, config, folders, checked, reporter, content } = this;
    const filter = () => skipFilter(this.remote, this.notes);
    return new FolderJobs(folders, {
      shard: config.options.shard,
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
        ? { skipFilter: content ? content.filter(filter()) : filter() }
        : {}),
    });
  }

  /**
   * What is already on the server is not sent again (a dry run connects to nothing):
   * the listed files to send, or none when the login was refused (`connectError`).
   */
  async #skipPhase(
    jobs: UploadJob[],
    warm: WarmWorkers | undefined,
    onMissing: () => void,
  ): Promise<{ jobs: UploadJob[]; connectError?: string }> {
    if (this.opts.dryRun || jobs.length === 0) return { jobs };
    const { reporter, opts } = this;
    const options = { ...this.remote, jobs, connections: this.config.options.workers, onMissing };
    // On the first worker's login, which the pool then adopts (`worker_check.ts`).
    const onWorker = warm && this.#checkOnWorker;
    const check = (onWorker ? await checkOnWorker(warm, this.settings, options) : undefined) ??
      await checkRemote(options);
    const connectError = check.loginRefused;
    if (connectError) {
      const { reason, failure } = unsentReason({
        connected: false,
        connectError,
        interrupted: false,
      });
      for (const job of jobs) {
        reporter.report(job.id, { result: { ...unsentResult(job, reason, failure), worker: 0 } });
      }
    }
    const send = connectError ? [] : check.send;
    this.content?.expect(send);
    for (const s of check.skipped) reporter.report(s.job.id, { skipReason: s.reason });
    this.notes.push(...check.notes);
    if (check.skipped.length > 0) {
      opts.log?.(`already on the server, not sent: ${check.skipped.length} file(s)`);
    }
    return { jobs: send, ...(connectError ? { connectError } : {}) };
  }

  /** The uploads: the listed files to send, then the walked ones as the walk finds them. */
  async #pool(jobs: UploadJob[], warm: WarmWorkers | undefined): Promise<Sent> {
    const { opts, folders, reporter, folderJobs } = this;
    const identity = new Map(this.checked.map((c) => [c.entry.index, c]));
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
      settings: this.settings,
      workers: this.#workers(jobs),
      log: opts.log,
      onEvent: (e) => e.type === "progress" ? reporter.progress(e) : this.emit(e),
      onResult: (id, result) => {
        if (result.timeSet === "unsupported") this.timesUnsupported = true;
        this.content?.settled(id, result.status);
        reporter.report(id, { result });
      },
      signal: opts.signal,
      workerUrl: this.workerModule,
      ...(folders.length > 0 ? { stream: folderJobs } : {}),
      ...(warm ? { warm } : {}),
    }, jobs);
    const { reconnects, interrupted, connectError, peakConnections } = await pool.run();
    poolDone = true;
    await counting.catch(() => {}); // a folder that vanished meanwhile: the walk reports it
    return {
      reconnects,
      connections: peakConnections,
      ...(interrupted ? { interrupted } : {}),
      ...(connectError ? { connectError } : {}),
    };
  }

  /** The files the pool never pulled are reported too (a stopped run's walk is not finished). */
  async #walkRest(interrupted: Sent["interrupted"]): Promise<void> {
    const { reporter, folderJobs } = this;
    reporter.reportRest({ interrupted: Boolean(interrupted) });
    if (!interrupted) await folderJobs.drain((jobs) => jobs.forEach((j) => reporter.report(j.id)));
    await folderJobs.close();
    this.notes.push(...folderJobs.notes);
    if (folderJobs.skippedCount > 0) {
      this.opts.log?.(`already on the server, not sent: ${folderJobs.skippedCount} walked file(s)`);
    }
  }

  /** The notes, the deploy step, the report. */
  async #finish(sent: Sent, plannedWorkers: number): Promise<RunOutcome> {
    const { opts, notes, records, folders, folderJobs, content } = this;
    // Said once, whether the skip phase or an upload found it out.
    if (this.timesUnsupported && !notes.includes(CANNOT_SET_TIMES_NOTE)) {
      notes.push(CANNOT_SET_TIMES_NOTE);
    }
    if (epsvFellBack(this.settings.server.epsvLearned)) notes.push(EPSV_FALLBACK_NOTE);
    records.tally.totals.reconnects = sent.reconnects;
    const extras = (index: number) =>
      folderJobs.tallies[folders.findIndex((f) => f.entry.index === index)];
    const deletionsRefused = opts.dryRun ? false : await this.#deploy(sent, extras);
    if (content) {
      await content.close();
      notes.push(...content.notes);
    }
    const { connectError } = sent;
    const result = records.finish({
      startedAt: this.startedAt,
      finishedAt: new Date(),
      // The connections that actually logged in (at most at once), not the number asked for.
      workers: opts.dryRun ? plannedWorkers : sent.connections,
      notes,
      interrupted: sent.interrupted,
      reconnects: sent.reconnects,
      connectFailed: Boolean(connectError),
      deletionsRefused,
      extras,
    });
    return { ...result, ...(connectError ? { connectError } : {}) };
  }

  /** The deploy step after the uploads (mirror deletions); true when they were refused. */
  async #deploy(sent: Sent, extras: (index: number) => EntryExtras): Promise<boolean> {
    const { opts, config, records, folders, content } = this;
    const { tally } = records;
    const step = await deployDeletionStep({
      config,
      login: this.settings.server,
      folders,
      entries: tally.entries(extras),
      failedOrMissing: tally.totals.failed + tally.totals.missing,
      plan: Boolean(opts.plan),
      interrupted: sent.interrupted,
      connectError: sent.connectError,
      signal: opts.signal,
      log: opts.log,
      onRecord: (file: ReportFile, entry: number) => {
        if (file.status === "deleted") content?.forget(file.destination);
        this.emit({ type: "file", file });
        records.addLate(file, entry);
      },
    });
    this.notes.push(...step.notes);
    if (folders.some((f) => f.entry.tree?.mirror)) {
      tally.totals.deleted ??= 0;
      tally.totals.plannedDeletions ??= 0;
    }
    return step.refused !== undefined;
  }
}

function signalName(reason: unknown): "SIGINT" | "SIGTERM" {
  return reason === "SIGTERM" ? "SIGTERM" : "SIGINT";
}
