/**
 * The worker pool of one run: one Web Worker per connection, the job queue,
 * batches handed to idle workers, the folder phase first (`folders.ts`),
 * replacing a worker that died, shrinking when the server refuses "one
 * connection too many", and stopping when the server is full. Files walked
 * from folder sources stream in after the listed ones (`feed_stage.ts`).
 * Decisions about a single file live in `src/upload/`. (Over 350 lines: the
 * queue, the worker lifecycle and the phases share state; each phase's rules
 * live in `folders.ts` and `feed_stage.ts`; bytes in flight in `tally.ts`.)
 *
 * @module
 */

import type { FromWorker, JobResult, UploadJob, UploadSettings } from "./messages.ts";
import { batchSize } from "../plan/plan.ts";
import { safeText } from "../ftp/server_text.ts";
import { backoffDelay, OutageClock } from "../upload/retry.ts";
import { notSentServerFull, unsentResult } from "../upload/job.ts";
import { FolderPhase } from "./folders.ts";
import { FeedStage, type JobFeed, type Release } from "./feed_stage.ts";
import { connectRetryLine, unsentReason } from "./progress.ts";
import { WorkerSlot as Slot } from "./slot.ts";
import { ByteTally } from "./tally.ts";
import type { WarmWorkers } from "./warm_workers.ts";
import type { RunEvent } from "../report/events.ts";

export interface PoolOptions {
  settings: UploadSettings;
  workers: number;
  log?: (line: string) => void;
  /** Retries, reconnects, and a `progress` snapshot every `PROGRESS_MS` (see `RunOptions.onEvent`). */
  onEvent?: (event: RunEvent) => void;
  /** Each job's result as soon as it is final (sent or not). */
  onResult?: (id: number, result: PoolResult) => void;
  signal?: AbortSignal;
  workerUrl: URL;
  /** More jobs, produced while the run goes (folder sources), after `jobs`. */
  feed?: JobFeed;
  /** Workers started ahead (during the skip phase): the first slots adopt them. */
  warm?: WarmWorkers;
}

/** A job's result with the worker that finished it (0: none). */
export type PoolResult = JobResult & { worker: number };

export interface PoolOutcome {
  results: Map<number, PoolResult>;
  reconnects: number;
  /** Most connections logged in at the same time. */
  peakConnections: number;
  interrupted?: "SIGINT" | "SIGTERM";
  /** Set when no connection could be made at all. */
  connectError?: string;
}

/** How often the live progress is told (the CLI decides how often to draw it). */
const PROGRESS_MS = 250;
const INTERRUPT_WAIT_MS = 5000;

export class Pool {
  #queue: UploadJob[];
  #slots = new Map<number, Slot>();
  #results = new Map<number, PoolResult>();
  #folders: FolderPhase;
  #nextId = 1;
  #limit: number;
  #everReady = false;
  #peak = 0;
  /** The first reason a login failed for good. */
  #connectError?: string;
  #loggedRetry = 0;
  #respawns = 0;
  #tooManyInARow = 0;
  #replacements = new Set<number>();
  /** Every connection refused as one too many after the run had logged in: timed like an outage. */
  #tooManyOutage = new OutageClock();
  #lastCrash?: string;
  #reconnects = 0;
  #bytes = new ByteTally();
  #full?: string;
  #interrupted?: "SIGINT" | "SIGTERM";
  #total: number;
  #done!: () => void;
  #finished = new Promise<void>((r) => (this.#done = r));
  #ended = false;
  #timers: ReturnType<typeof setTimeout>[] = [];
  #jobs: Map<number, UploadJob>;
  #feed?: FeedStage;

  constructor(readonly opts: PoolOptions, jobs: UploadJob[]) {
    this.#queue = jobs;
    this.#jobs = new Map(jobs.map((j) => [j.id, j]));
    this.#total = jobs.length;
    this.#limit = opts.workers;
    this.#folders = new FolderPhase(jobs.map((j) => j.destination));
    if (opts.feed) this.#feed = new FeedStage(opts.feed, (line) => this.#log(line));
  }

  async run(): Promise<PoolOutcome> {
    const { signal } = this.opts;
    const onAbort = () => this.#interrupt(signal?.reason);
    signal?.addEventListener("abort", onAbort);
    if (signal?.aborted) onAbort();
    for (let i = 0; i < this.#limit; i++) this.#spawn();
    const { onEvent } = this.opts;
    const progress = onEvent &&
      setInterval(() => onEvent(this.#bytes.snapshot(this.#loggedIn())), PROGRESS_MS);
    await this.#finished;
    if (progress) clearInterval(progress);
    signal?.removeEventListener("abort", onAbort);
    await this.#closeAll();
    return {
      results: this.#results,
      reconnects: this.#reconnects,
      peakConnections: this.#peak,
      interrupted: this.#interrupted,
      connectError: this.#everReady ? undefined : this.#connectError,
    };
  }

  #log(line: string) {
    this.opts.log?.(line);
  }

  /** `replacement`: it takes over from a connection the run lost; its login is a reconnect. */
  #spawn(replacement = false) {
    const id = this.#nextId++;
    if (replacement) this.#replacements.add(id);
    const { settings, workerUrl } = this.opts;
    const slot = new Slot(
      id,
      workerUrl,
      settings,
      (s, msg) => this.#onMessage(s, msg),
      // An uncaught error's text may quote a server reply.
      (s, e) => this.#onCrash(s, safeText(e, [settings.server.password])),
      this.opts.warm?.take(id),
    );
    this.#slots.set(id, slot);
  }

  #live(): Slot[] {
    return [...this.#slots.values()].filter((s) => s.live);
  }

  /** Connections logged in now. */
  #loggedIn(): number {
    return [...this.#slots.values()].filter((s) => s.loggedIn).length;
  }

  #onMessage(slot: Slot, msg: FromWorker) {
    if (slot.state === "gone") return;
    switch (msg.type) {
      case "ready":
        this.#everReady = true;
        this.#tooManyInARow = 0;
        this.#tooManyOutage.ended();
        if (this.#replacements.delete(slot.id)) {
          this.#reconnects++;
          this.#emit({ type: "reconnect", worker: slot.id });
        }
        slot.state = "ready";
        this.#peak = Math.max(this.#peak, this.#loggedIn());
        this.#assign(slot);
        break;
      case "connectRetry":
        // Said at once, once per round (every worker meets the same server).
        if (msg.attempt > this.#loggedRetry) this.#log(connectRetryLine(msg));
        this.#loggedRetry = Math.max(this.#loggedRetry, msg.attempt);
        this.#emit({ ...retry(msg), worker: slot.id });
        break;
      case "connectFailed":
        slot.state = "gone";
        if (msg.kind === "tooMany") return this.#shrink(slot, []);
        // The run's own "could not connect" line says it when nothing ever logged in.
        if (this.#everReady) this.#log(`connection ${slot.id}: ${msg.error}`);
        this.#connectError ??= msg.error;
        this.#afterLoss();
        break;
      case "mkdirsDone":
        for (const f of msg.failed) this.#log(`could not create folder ${f.dir}: ${f.error}`);
        if (this.#feed?.holds(slot.id)) {
          this.#feedDirsDone(msg.created, msg.failed);
        } else if (slot.group && this.#folders.finished(slot.group, msg.created, msg.failed)) {
          // The trunk is there: its branches can go to every ready worker.
          for (const s of this.#live()) if (s !== slot) this.#assign(s);
        }
        slot.group = undefined;
        if (this.#folders.done) this.#startUploads();
        slot.state = "ready";
        this.#assign(slot);
        break;
      case "result":
        this.#onResult(slot, msg.result);
        break;
      case "idle":
        slot.state = "ready";
        this.#assign(slot);
        break;
      case "shrink":
        slot.state = "gone";
        this.#shrink(slot, msg.returned);
        break;
      case "reconnected": {
        this.#reconnects++;
        const { reconnect: _, ...cause } = msg.cause ?? {};
        this.#emit({ type: "reconnect", worker: slot.id, ...cause });
        break;
      }
      case "retry":
        this.#emit({ type: "retry", worker: slot.id, ...msg.notice });
        break;
      case "progress":
        this.#bytes.moved(slot.id, msg);
        break;
      case "closed":
        slot.state = "gone";
        break;
    }
  }

  #onResult(slot: Slot, result: JobResult) {
    slot.inflight.delete(result.id);
    if (!this.#results.has(result.id)) {
      this.#record(result, slot.id);
      const error = result.error ?? "";
      if (result.status === "failed" && error !== "interrupted" && !error.startsWith("not sent")) {
        this.#log(`failed: ${this.#jobs.get(result.id)?.destination ?? result.id}: ${error}`);
      }
    }
    if (result.serverFull && !this.#full) this.#stopSending(result.error ?? "");
    this.#checkDone();
  }

  /** The server is out of space: every file not yet sent fails unsent, with its words. */
  #stopSending(serverWords: string) {
    this.#full = notSentServerFull(serverWords);
    this.#log(`the server is full (${serverWords}): no more files are sent`);
    for (const s of this.#live()) s.send({ type: "stopSending", reason: this.#full });
    this.#failQueue(this.#full);
  }

  /** Gives a ready worker a folder group (first phase) or a batch of files. */
  #assign(slot: Slot) {
    if (this.#ended || this.#interrupted || slot.state !== "ready") return;
    const group = this.#folders.take();
    if (group) {
      slot.group = group;
      slot.state = "busy";
      slot.send({ type: "mkdirs", dirs: group });
      return;
    }
    if (!this.#folders.done) return;
    const dirs = this.#feed?.takeDirs(slot.id);
    if (dirs) {
      slot.state = "busy";
      slot.send({ type: "mkdirs", dirs });
      return;
    }
    this.#pullFeed();
    if (this.#queue.length === 0) return;
    const n = batchSize(this.#queue.length, this.#live().length);
    const batch = this.#queue.splice(0, n);
    for (const j of batch) {
      slot.inflight.set(j.id, j);
      if (this.#folders.isFresh(j) || this.#feed?.isFresh(j)) j.fresh = true;
    }
    slot.state = "busy";
    slot.send({ type: "jobs", jobs: batch });
  }

  /** Pulls the next chunk of walked files when the queue runs low. */
  #pullFeed() {
    this.#feed?.pull(this.#queue.length, this.#live().length, (count, release) => {
      this.#total += count;
      this.#addJobs(release);
    });
  }

  /** A chunk's folders are there (or failed): its files join the queue. */
  #feedDirsDone(created: string[], failed: { dir: string; error: string }[]) {
    this.#addJobs(this.#feed!.dirsDone(created, failed));
  }

  /** Walked files join the queue; those under a folder that could not be created fail now. */
  #addJobs({ ready: jobs, blocked }: Release) {
    for (const { job, reason } of blocked) this.#fail(job, reason);
    for (const j of jobs) this.#jobs.set(j.id, j);
    this.#queue.push(...jobs);
    if (this.#full) this.#failQueue(this.#full);
    for (const s of this.#live()) this.#assign(s);
    this.#checkDone();
  }

  #startUploads() {
    // Files under a folder that could not be created fail now, with the reason.
    this.#queue = this.#queue.filter((job) => {
      const reason = this.#folders.blocked(job);
      if (reason) this.#fail(job, reason);
      return !reason;
    });
    for (const s of this.#live()) this.#assign(s);
    this.#checkDone();
  }

  /** The server refused this connection as one too many: carry on with fewer. */
  #shrink(slot: Slot, returned: UploadJob[]) {
    this.#requeue(slot, returned);
    this.#limit = Math.max(1, this.#live().length);
    this.#log(`server refused a connection (too many); continuing with ${this.#limit}`);
    if (this.#live().length > 0) return;
    // Nobody left: wait, then try one connection again. Once the run had logged in, the slot is
    // usually held by our own dead session or another client for a while (ProFTPD's "530 Sorry,
    // the maximum number of clients (1) from your host are already connected" after a cut): wait
    // for it by time, as for an outage. A server that never let us in fails after the retries.
    const { retries, backoffBaseMs, backoffMaxMs } = this.opts.settings;
    const delay = this.#everReady
      ? this.#tooManyOutage.failed(this.opts.settings)
      : ++this.#tooManyInARow > retries + 1
      ? undefined
      : backoffDelay(this.#tooManyInARow, backoffBaseMs, backoffMaxMs);
    if (delay === undefined) {
      const reason = "server refused every connection (too many connections)";
      this.#connectError ??= reason;
      return this.#failRemaining(reason);
    }
    this.#timers.push(
      setTimeout(() => !this.#ended && !this.#interrupted && this.#spawn(true), delay),
    );
  }

  #onCrash(slot: Slot, message: string) {
    if (slot.state === "gone") return;
    this.#log(`worker ${slot.id} died (${message}); its files go to another worker`);
    this.#lastCrash = message;
    slot.worker.terminate();
    slot.state = "gone";
    this.#requeue(slot, []);
    this.#afterLoss(true);
  }

  /** Puts a lost worker's unfinished work back at the front of the queue. */
  #requeue(slot: Slot, returned: UploadJob[]) {
    const back = new Map<number, UploadJob>();
    for (const j of slot.inflight.values()) back.set(j.id, j);
    for (const j of returned) back.set(j.id, j); // returned ones carry their progress
    slot.inflight.clear();
    this.#bytes.lost(slot.id);
    for (const id of this.#results.keys()) back.delete(id);
    this.#queue.unshift(...back.values());
    if (this.#full) this.#failQueue(this.#full);
    this.#feed?.lost(slot.id);
    if (slot.group) {
      this.#folders.giveBack(slot.group);
      slot.group = undefined;
    }
    for (const s of this.#live()) if (s.state === "ready") this.#assign(s);
  }

  /** After a worker is lost: replace it while there is work, or end the run. */
  #afterLoss(crashed = false) {
    if (this.#ended) return;
    const live = this.#live().length;
    const work = this.#queue.length > 0 || this.#folders.waiting || this.#feed?.over === false;
    // A crash is replaced at once; a lost connection only when none is left (and one worked).
    const replace = crashed || (live === 0 && this.#everReady);
    if (replace && work && this.#respawns < this.#limit * 3 && !this.#interrupted) {
      this.#respawns++;
      return this.#spawn();
    }
    if (live > 0) return;
    this.#failRemaining(unsentReason({
      connected: this.#everReady,
      connectError: this.#connectError,
      crash: this.#lastCrash,
      interrupted: this.#interrupted !== undefined,
    }));
  }

  /** Fails a job that was not sent (again), unless it has its result. */
  #fail(job: UploadJob, reason: string) {
    if (!this.#results.has(job.id)) {
      this.#record(unsentResult(job, reason), 0);
    }
  }

  /** A job's final result: kept, counted, told. */
  #record(result: JobResult, worker: number) {
    const pooled = { ...result, worker };
    this.#results.set(result.id, pooled);
    this.#bytes.finished(worker, result);
    this.opts.onResult?.(result.id, pooled);
  }

  /** Told to `onEvent`, when there is one. */
  #emit(event: RunEvent) {
    this.opts.onEvent?.(event);
  }

  /** Fails every queued job, unsent, with `reason`. */
  #failQueue(reason: string) {
    for (const j of this.#queue) this.#fail(j, reason);
    this.#queue = [];
    this.#checkDone();
  }

  #failRemaining(reason: string) {
    this.#folders.clear();
    for (const j of this.#feed?.stop() ?? []) this.#fail(j, reason);
    this.#failQueue(reason);
    this.#end();
  }

  #checkDone() {
    if (this.#results.size >= this.#total && (this.#feed?.over ?? true)) this.#end();
    else if (this.#interrupted && this.#live().every((s) => s.inflight.size === 0)) this.#end();
  }

  #interrupt(reason: unknown) {
    if (this.#interrupted || this.#ended) return;
    this.#interrupted = reason === "SIGTERM" ? "SIGTERM" : "SIGINT";
    this.#log(`${this.#interrupted}: stopping; partial files stay on the server to be resumed`);
    this.#queue = [];
    this.#folders.clear();
    this.#total -= this.#feed?.stop().length ?? 0;
    for (const s of this.#live()) s.send({ type: "interrupt" });
    // A worker stuck in a socket call must not hold the report back.
    this.#timers.push(setTimeout(() => this.#end(), INTERRUPT_WAIT_MS));
    this.#checkDone();
  }

  #end() {
    if (this.#ended) return;
    this.#ended = true;
    this.#timers.forEach(clearTimeout);
    this.#done();
  }

  async #closeAll() {
    await Promise.all(this.#live().map((s) => s.finish()));
    for (const s of this.#slots.values()) s.worker.terminate();
  }
}

/** A first login's retry as an event (no file yet, so no path). */
function retry(m: { attempt: number; error: string; pauseMs: number }) {
  return {
    type: "retry",
    attempt: m.attempt,
    error: m.error,
    delayMs: m.pauseMs,
    reconnect: false,
  } as const;
}
