/**
 * Runs an upload: checks the sources, plans, keeps a pool of upload workers
 * busy, merges what they report, and builds the report. Decisions about the
 * pool live here (how many connections, who gets what, what happens when a
 * worker dies); decisions about a single file live in `uploader.ts`.
 *
 * @module
 */

import { posix } from "node:path";
import type { FromWorker, JobResult, ToWorker, UploadJob, UploadSettings } from "./messages.ts";
import { batchSize, type CheckedSource, isUnder, planFolders, planJobs } from "../plan/plan.ts";
import { filesDigest, selectShard } from "../plan/shard.ts";
import { buildReport, formatBytes, type Report, type ReportFile } from "../report/report.ts";
import { checkSources } from "./sources.ts";
import type { Config } from "../config/types.ts";

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
}

export interface RunOutcome {
  report: Report;
  exitCode: number;
  /** Set when no connection could be made at all (exit 3). */
  connectError?: string;
}

const PROGRESS_MS = 10_000;
const DEFAULT_WORKER = new URL("../../workers/upload_worker.ts", import.meta.url);

/** Runs the whole job described by `config`. Never throws for per-file problems. */
export async function runUpload(opts: RunOptions): Promise<RunOutcome> {
  const startedAt = new Date();
  const { config } = opts;
  const shard = config.options.shard;
  const checked = checkSources(selectShard(config.files, shard));
  const jobs = planJobs(checked);
  const workers = Math.max(1, Math.min(config.options.workers, jobs.length));
  const results = new Map<number, JobResult & { worker: number }>();
  let reconnects = 0;
  let connectError: string | undefined;
  let interrupted: "SIGINT" | "SIGTERM" | undefined;

  if (!opts.dryRun && jobs.length > 0) {
    const pool = new Pool(opts, jobs, workers);
    const out = await pool.run();
    for (const [id, r] of out.results) results.set(id, r);
    reconnects = out.reconnects;
    connectError = out.connectError;
    interrupted = out.interrupted;
  }

  const files = checked.map((c) =>
    toReportFile(c, results.get(c.entry.index), opts.dryRun, interrupted)
  );
  const report = buildReport({
    startedAt,
    finishedAt: new Date(),
    server: {
      host: config.server.host,
      port: config.server.port,
      user: config.server.user ?? "anonymous",
      secure: config.server.secure,
    },
    workers,
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

function toReportFile(
  c: CheckedSource,
  r: (JobResult & { worker: number }) | undefined,
  dryRun: boolean | undefined,
  interrupted: string | undefined,
): ReportFile {
  const base = { source: c.entry.source, destination: c.entry.destination };
  if (!c.ok) {
    return {
      ...base,
      status: "missing",
      size: 0,
      bytesSent: 0,
      attempts: 0,
      resumedFrom: [],
      worker: 0,
      durationMs: 0,
      error: `source ${c.reason}`,
    };
  }
  if (!r) {
    return {
      ...base,
      // A dry run sends nothing: the file is planned, which is not "skipped" (already there).
      status: dryRun ? "planned" : "failed",
      size: c.size,
      bytesSent: 0,
      attempts: 0,
      resumedFrom: [],
      worker: 0,
      durationMs: 0,
      ...(dryRun ? {} : { error: interrupted ? "interrupted" : "not attempted" }),
    };
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
    ...(r.error ? { error: r.error } : {}),
  };
}

interface Slot {
  id: number;
  worker: Worker;
  state: "connecting" | "ready" | "busy" | "closing" | "gone";
  inflight: Map<number, UploadJob>;
  group?: string[];
}

/** The worker pool for one run. */
class Pool {
  #queue: UploadJob[];
  #slots = new Map<number, Slot>();
  #results = new Map<number, JobResult & { worker: number }>();
  #groups: string[][];
  #trunk?: string[];
  #afterTrunk: string[][];
  #groupsPending: number;
  #failedDirs: { dir: string; error: string }[] = [];
  #freshDirs = new Set<string>();
  #nextId = 1;
  #limit: number;
  #everReady = false;
  #connectErrors: string[] = [];
  #respawns = 0;
  #tooManyInARow = 0;
  #lastCrash?: string;
  #reconnects = 0;
  #interrupted?: "SIGINT" | "SIGTERM";
  #total: number;
  #done!: () => void;
  #finished = new Promise<void>((r) => (this.#done = r));
  #ended = false;
  #timers: ReturnType<typeof setTimeout>[] = [];
  #jobs: Map<number, UploadJob>;

  constructor(readonly opts: RunOptions, jobs: UploadJob[], workers: number) {
    this.#queue = jobs;
    this.#jobs = new Map(jobs.map((j) => [j.id, j]));
    this.#total = jobs.length;
    this.#limit = workers;
    const folders = planFolders(jobs.map((j) => j.destination));
    // The trunk goes first, alone; the branches below it can then be created in parallel.
    this.#trunk = folders.trunk.length > 0 ? folders.trunk : undefined;
    this.#groups = this.#trunk ? [this.#trunk] : folders.groups;
    this.#afterTrunk = this.#trunk ? folders.groups : [];
    this.#groupsPending = this.#groups.length + this.#afterTrunk.length;
  }

  async run() {
    const onAbort = () => this.#interrupt(this.opts.signal?.reason);
    this.opts.signal?.addEventListener("abort", onAbort);
    if (this.opts.signal?.aborted) onAbort();
    for (let i = 0; i < this.#limit; i++) this.#spawn();
    // A line every so often, so a person watching a long run sees it move.
    const started = performance.now();
    const progress = this.opts.log && setInterval(() => this.#progress(started), PROGRESS_MS);
    await this.#finished;
    if (progress) clearInterval(progress);
    this.opts.signal?.removeEventListener("abort", onAbort);
    await this.#closeAll();
    return {
      results: this.#results,
      reconnects: this.#reconnects,
      interrupted: this.#interrupted,
      connectError: this.#everReady ? undefined : this.#connectErrors[0],
    };
  }

  #progress(started: number) {
    let done = 0;
    let bytes = 0;
    for (const r of this.#results.values()) {
      done++;
      if (r.status === "uploaded") bytes += this.#jobs.get(r.id)?.size ?? 0;
    }
    const secs = (performance.now() - started) / 1000;
    this.#log(
      `progress: ${done}/${this.#total} files, ${formatBytes(bytes)} (${
        formatBytes(bytes / secs)
      }/s), ${this.#live().length} connections, ${this.#reconnects} reconnects`,
    );
  }

  #log(line: string) {
    this.opts.log?.(line);
  }

  #settings(): UploadSettings {
    const { server, options } = this.opts.config;
    return {
      server: {
        host: server.host,
        port: server.port,
        user: server.user,
        password: this.opts.password,
        secure: server.secure,
      },
      retries: options.retries,
      atomic: options.atomic,
      verify: options.verify,
      backoffBaseMs: options.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs,
      timeoutMs: options.timeoutMs,
    };
  }

  #spawn() {
    const id = this.#nextId++;
    const worker = new Worker(this.opts.workerUrl ?? DEFAULT_WORKER, { type: "module" });
    const slot: Slot = { id, worker, state: "connecting", inflight: new Map() };
    this.#slots.set(id, slot);
    worker.onmessage = (e: MessageEvent<FromWorker>) => this.#onMessage(slot, e.data);
    worker.onerror = (e: ErrorEvent) => {
      e.preventDefault();
      this.#onCrash(slot, e.message);
    };
    this.#send(slot, { type: "init", workerId: id, settings: this.#settings() });
  }

  #send(slot: Slot, msg: ToWorker) {
    slot.worker.postMessage(msg);
  }

  #live(): Slot[] {
    return [...this.#slots.values()].filter((s) => s.state !== "gone" && s.state !== "closing");
  }

  #onMessage(slot: Slot, msg: FromWorker) {
    if (slot.state === "gone") return;
    switch (msg.type) {
      case "ready":
        this.#everReady = true;
        this.#tooManyInARow = 0;
        slot.state = "ready";
        this.#assign(slot);
        break;
      case "connectFailed":
        this.#gone(slot);
        if (msg.kind === "tooMany") {
          this.#shrink(slot, []);
        } else {
          this.#connectErrors.push(msg.error);
          this.#log(`connection ${slot.id}: ${msg.error}`);
          this.#afterLoss();
        }
        break;
      case "mkdirsDone":
        this.#failedDirs.push(...msg.failed);
        for (const d of msg.created) this.#freshDirs.add(d);
        for (const f of msg.failed) this.#log(`could not create folder ${f.dir}: ${f.error}`);
        if (slot.group === this.#trunk) {
          this.#groups.push(...this.#afterTrunk);
          this.#afterTrunk = [];
          for (const s of this.#live()) if (s !== slot) this.#assign(s);
        }
        slot.group = undefined;
        this.#groupsPending--;
        if (this.#groupsPending === 0) this.#startUploads();
        slot.state = "ready";
        this.#assign(slot);
        break;
      case "result":
        slot.inflight.delete(msg.result.id);
        if (!this.#results.has(msg.result.id)) {
          this.#results.set(msg.result.id, { ...msg.result, worker: slot.id });
          if (msg.result.status === "failed" && msg.result.error !== "interrupted") {
            const dest = this.#jobs.get(msg.result.id)?.destination ?? msg.result.id;
            this.#log(`failed: ${dest}: ${msg.result.error}`);
          }
        }
        this.#checkDone();
        break;
      case "idle":
        slot.state = "ready";
        this.#assign(slot);
        break;
      case "shrink":
        this.#gone(slot);
        this.#shrink(slot, msg.returned);
        break;
      case "reconnected":
        this.#reconnects++;
        break;
      case "closed":
        this.#gone(slot);
        break;
    }
  }

  /** Gives a ready worker a folder group (first phase) or a batch of files. */
  #assign(slot: Slot) {
    if (this.#ended || this.#interrupted || slot.state !== "ready") return;
    if (this.#groups.length > 0) {
      const group = this.#groups.shift()!;
      slot.group = group;
      slot.state = "busy";
      this.#send(slot, { type: "mkdirs", dirs: group });
      return;
    }
    if (this.#groupsPending > 0 || this.#queue.length === 0) return;
    const n = batchSize(this.#queue.length, this.#live().length);
    const batch = this.#queue.splice(0, n);
    for (const j of batch) {
      slot.inflight.set(j.id, j);
      if (this.#freshDirs.has(posix.dirname(j.destination))) j.fresh = true;
    }
    slot.state = "busy";
    this.#send(slot, { type: "jobs", jobs: batch });
  }

  #startUploads() {
    // Files under a folder that could not be created fail now, with the reason.
    if (this.#failedDirs.length > 0) {
      this.#queue = this.#queue.filter((job) => {
        const bad = this.#failedDirs.find((f) => isUnder(job.destination, f.dir));
        if (!bad) return true;
        this.#results.set(job.id, {
          id: job.id,
          status: "failed",
          bytesSent: 0,
          attempts: 0,
          resumedFrom: [],
          durationMs: 0,
          worker: 0,
          error: `could not create remote folder ${bad.dir}: ${bad.error}`,
        });
        return false;
      });
    }
    for (const s of this.#live()) this.#assign(s);
    this.#checkDone();
  }

  /** The server refused this connection as one too many: carry on with fewer. */
  #shrink(slot: Slot, returned: UploadJob[]) {
    this.#requeue(slot, returned);
    this.#limit = Math.max(1, this.#live().length);
    this.#log(`server refused a connection (too many); continuing with ${this.#limit}`);
    if (this.#live().length === 0) {
      // Nobody left: wait, then try one connection again, a bounded number of times.
      this.#tooManyInARow++;
      if (this.#tooManyInARow > this.opts.config.options.retries + 1) {
        this.#connectErrors.push("server refused every connection (too many connections)");
        return this.#failRemaining("server refused every connection (too many connections)");
      }
      const { backoffBaseMs, backoffMaxMs } = this.opts.config.options;
      const delay = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (this.#tooManyInARow - 1));
      this.#timers.push(
        setTimeout(() => !this.#ended && !this.#interrupted && this.#spawn(), delay),
      );
    }
  }

  #onCrash(slot: Slot, message: string) {
    if (slot.state === "gone") return;
    this.#log(`worker ${slot.id} died (${message}); its files go to another worker`);
    this.#lastCrash = message;
    slot.worker.terminate();
    this.#gone(slot);
    this.#requeue(slot, []);
    this.#afterLoss(true);
  }

  /** Puts a lost worker's unfinished work back at the front of the queue. */
  #requeue(slot: Slot, returned: UploadJob[]) {
    const back = new Map<number, UploadJob>();
    for (const j of slot.inflight.values()) back.set(j.id, j);
    for (const j of returned) back.set(j.id, j); // returned ones carry their progress
    slot.inflight.clear();
    for (const id of this.#results.keys()) back.delete(id);
    this.#queue.unshift(...back.values());
    if (slot.group) {
      this.#groups.unshift(slot.group);
      slot.group = undefined;
    }
    for (const s of this.#live()) if (s.state === "ready") this.#assign(s);
  }

  /** After a worker is lost: replace it while there is work, or end the run. */
  #afterLoss(crashed = false) {
    if (this.#ended) return;
    const live = this.#live().length;
    const work = this.#queue.length > 0 || this.#groups.length > 0;
    if (crashed && work && this.#respawns < this.#limit * 3 && !this.#interrupted) {
      this.#respawns++;
      this.#spawn();
      return;
    }
    if (live === 0) {
      if (!this.#everReady) {
        return this.#failRemaining(
          this.#connectErrors.length > 0 || !this.#lastCrash
            ? `could not connect: ${this.#connectErrors[0] ?? "unknown error"}`
            : `upload worker failed: ${this.#lastCrash}`,
        );
      }
      if (work && this.#respawns < this.#limit * 3 && !this.#interrupted) {
        this.#respawns++;
        this.#spawn();
        return;
      }
      this.#failRemaining(
        this.#interrupted
          ? "interrupted"
          : `no connection left${this.#lastCrash ? ` (worker failed: ${this.#lastCrash})` : ""}`,
      );
    }
  }

  #failRemaining(reason: string) {
    for (const j of this.#queue) {
      if (this.#results.has(j.id)) continue;
      this.#results.set(j.id, {
        id: j.id,
        status: "failed",
        bytesSent: j.carried?.bytesSent ?? 0,
        attempts: j.carried?.attempts ?? 0,
        resumedFrom: j.carried?.resumedFrom ?? [],
        durationMs: 0,
        worker: 0,
        error: reason,
      });
    }
    this.#queue = [];
    this.#groups = [];
    this.#end();
  }

  #gone(slot: Slot) {
    slot.state = "gone";
  }

  #checkDone() {
    if (this.#results.size >= this.#total) this.#end();
    else if (this.#interrupted && this.#live().every((s) => s.inflight.size === 0)) this.#end();
  }

  #interrupt(reason: unknown) {
    if (this.#interrupted || this.#ended) return;
    this.#interrupted = reason === "SIGTERM" ? "SIGTERM" : "SIGINT";
    this.#log(`${this.#interrupted}: stopping; partial files stay on the server to be resumed`);
    this.#queue = [];
    this.#groups = [];
    for (const s of this.#live()) this.#send(s, { type: "interrupt" });
    // A worker stuck in a socket call must not hold the report back.
    this.#timers.push(setTimeout(() => this.#end(), 5000));
    this.#checkDone();
  }

  #end() {
    if (this.#ended) return;
    this.#ended = true;
    this.#timers.forEach(clearTimeout);
    this.#done();
  }

  async #closeAll() {
    const closing = this.#live().map((s) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 3000);
        s.worker.addEventListener("message", (e) => {
          if ((e as MessageEvent<FromWorker>).data.type === "closed") {
            clearTimeout(timer);
            resolve();
          }
        });
        s.state = "closing";
        this.#send(s, { type: "finish" });
      })
    );
    await Promise.all(closing);
    for (const s of this.#slots.values()) s.worker.terminate();
  }
}
