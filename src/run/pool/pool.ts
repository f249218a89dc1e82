/**
 * The worker pool of one run: one upload worker per connection (`slot.ts`), work
 * handed to ready workers (`work.ts`: the ledger of who holds which file, the
 * folder phase, walked files). Whatever way a worker ends, its work goes back
 * in one place (`#lose`); the run ends when the ledger says every file is
 * finished. A watchdog ends a worker that shows no life while it holds work.
 * When to replace a worker or try a refused slot again: `retry.ts` (`PoolRetry`).
 *
 * @module
 */

import type { FromWorker, JobResult, UploadJob } from "./messages.ts";
import { safeText } from "../../ftp/server_text.ts";
import { PoolRetry, stallLimitMs } from "../../upload/retry.ts";
import { Failure, notSentServerFull, unsentResult } from "../../upload/job.ts";
import type { Release } from "./job_stream_reader.ts";
import {
  type Connections,
  connectRetry,
  type Loss,
  type PoolOptions,
  type PoolOutcome,
} from "./pool_types.ts";
import { Work } from "./work.ts";
import { connectRetryLine, type Unsent, unsentReason } from "../../report/run_messages.ts";
import { WorkerSlot as Slot } from "./slot.ts";
import { ByteTally } from "./tally.ts";
import type { RunEvent } from "../../report/events.ts";

export type { PoolOptions, PoolOutcome, PoolResult } from "./pool_types.ts";

/** How often the live progress is told (the CLI decides how often to draw it). */
const PROGRESS_MS = 250;
const INTERRUPT_WAIT_MS = 5000;

export class Pool {
  #work: Work;
  #slots = new Map<number, Slot>();
  #bytes = new ByteTally();
  #retry: PoolRetry;
  #conn: Connections;
  #nextId = 1;
  /** Slots started as replacements: their login counts as a reconnect. */
  #replacements = new Set<number>();
  /** Slots started to try a refused slot again. */
  #probes = new Set<number>();
  #interrupted?: "SIGINT" | "SIGTERM";
  #ended = false;
  #done = Promise.withResolvers<void>();
  #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(readonly opts: PoolOptions, jobs: UploadJob[]) {
    this.#work = new Work(jobs, opts.stream, (line) => this.#log(line));
    this.#conn = { everReady: false, peak: 0, reconnects: 0, loggedRetry: 0, limit: opts.workers };
    this.#retry = new PoolRetry(opts.settings, opts.workers);
  }

  async run(): Promise<PoolOutcome> {
    const { signal, onEvent, settings } = this.opts;
    const onAbort = () => this.#interrupt(signal?.reason);
    signal?.addEventListener("abort", onAbort);
    if (signal?.aborted) onAbort();
    for (let i = 0; i < this.#conn.limit; i++) this.#spawn();
    const progress = onEvent &&
      setInterval(() => onEvent(this.#bytes.snapshot(this.#loggedIn())), PROGRESS_MS);
    const limit = stallLimitMs(settings);
    const watchdog = setInterval(() => this.#watch(limit), Math.min(1000, limit / 4));
    this.#checkDone();
    await this.#done.promise;
    clearInterval(watchdog);
    if (progress) clearInterval(progress);
    signal?.removeEventListener("abort", onAbort);
    await this.#closeAll();
    const c = this.#conn;
    return {
      reconnects: c.reconnects,
      peakConnections: c.peak,
      interrupted: this.#interrupted,
      connectError: c.everReady ? undefined : c.connectError,
    };
  }

  #log(line: string) {
    this.opts.log?.(line);
  }

  /** `replacement`: it takes over from a connection the run lost; its login is a reconnect. */
  #spawn(replacement = false): number | undefined {
    if (this.#ended || this.#interrupted) return;
    const id = this.#nextId++;
    if (replacement) this.#replacements.add(id);
    const { settings, workerUrl } = this.opts;
    // An uncaught error's text may quote a server reply. A worker started ahead is adopted.
    const crashed = (s: Slot, e: string) =>
      this.#lose(s, { how: "crashed", error: safeText(e, [settings.server.password]) });
    const onMessage = (s: Slot, msg: FromWorker) => this.#onMessage(s, msg);
    const slot = new Slot(id, workerUrl, settings, onMessage, crashed, this.opts.warm?.take(id));
    this.#slots.set(id, slot);
    return id;
  }

  #later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.#timers.delete(t);
      fn();
    }, ms);
    this.#timers.add(t);
  }

  #live(): Slot[] {
    return [...this.#slots.values()].filter((s) => s.live);
  }

  #loggedIn(): number {
    return this.#live().filter((s) => s.loggedIn).length;
  }

  #onMessage(slot: Slot, msg: FromWorker) {
    if (slot.state === "gone") return;
    switch (msg.type) {
      case "ready":
        return this.#onReady(slot);
      case "connectRetry":
        // Said at once, once per round (every worker meets the same server).
        if (msg.attempt > this.#conn.loggedRetry) this.#log(connectRetryLine(msg));
        this.#conn.loggedRetry = Math.max(this.#conn.loggedRetry, msg.attempt);
        return this.#emit({ ...connectRetry(msg), worker: slot.id });
      case "connectFailed":
        if (msg.kind === "tooMany") return this.#lose(slot, { how: "refused" });
        return this.#lose(slot, { how: "connectFailed", error: msg.error });
      case "mkdirsDone":
        return this.#onDirsDone(slot, msg.created, msg.failed);
      case "result":
        return this.#onResult(slot, msg.result);
      case "idle":
        slot.ready();
        return this.#assign(slot);
      case "drained":
        return this.#onDrained(slot, msg.batches);
      case "shrink":
        return this.#lose(slot, shrinkLoss(msg), msg.returned);
      case "reconnected": {
        this.#conn.reconnects++;
        const { reconnect: _, ...cause } = msg.cause ?? {};
        return this.#emit({ type: "reconnect", worker: slot.id, ...cause });
      }
      case "retry":
        return this.#emit({ type: "retry", worker: slot.id, ...msg.notice });
      case "progress":
        return this.#bytes.moved(slot.id, msg);
      case "alive":
        return; // `slot.seen()` is all it is for
      case "closed":
        return slot.end();
    }
  }

  #onReady(slot: Slot) {
    this.#conn.everReady = true;
    this.#retry.loggedIn();
    if (this.#replacements.delete(slot.id)) {
      this.#conn.reconnects++;
      this.#emit({ type: "reconnect", worker: slot.id });
    }
    slot.ready();
    this.#conn.peak = Math.max(this.#conn.peak, this.#loggedIn());
    this.#assign(slot);
  }

  #onDirsDone(slot: Slot, created: string[], failed: { dir: string; error: string }[]) {
    for (const f of failed) this.#log(`could not create folder ${f.dir}: ${f.error}`);
    const { stream, folders } = this.#work;
    if (stream?.holds(slot.id)) {
      this.#addJobs(stream.dirsDone(created, failed));
    } else if (slot.group && folders.finished(slot.group, created, failed)) {
      // The trunk is there: its branches can go to every ready worker.
      for (const s of this.#live()) if (s !== slot) this.#assign(s);
    }
    slot.group = undefined;
    if (folders.done) this.#startUploads();
    slot.ready();
    this.#assign(slot);
  }

  #onResult(slot: Slot, result: JobResult) {
    const { ledger } = this.#work;
    const job = ledger.heldAs(slot.id, result.id);
    // A result for a file this worker does not hold (any more) changes nothing.
    if (!job || !ledger.finish(slot.id, result.id)) return;
    this.#record(result, slot.id);
    if (result.status === "failed" && result.failure === undefined) {
      this.#log(`failed: ${job.destination}: ${result.error ?? ""}`);
    }
    if (result.serverFull && !this.#work.full) this.#stopSending(result.error ?? "");
    this.#checkDone();
  }

  /**
   * The worker holds nothing. Files the ledger still counts as its (sent no
   * later than the batches it got) were lost on the way: second line of
   * defence, said as such.
   */
  #onDrained(slot: Slot, batches: number) {
    const { ledger } = this.#work;
    if (batches !== slot.batches || ledger.holding(slot.id) === 0) return;
    const back = ledger.release(slot.id);
    this.#log(
      `second line of defence: connection ${slot.id} holds no file but had ${back.length} ` +
        `without a result; they go back to the queue`,
    );
    this.#afterRelease();
  }

  /** The server is out of space: every file not yet sent fails unsent, with its words. */
  #stopSending(serverWords: string) {
    const full = this.#work.full = notSentServerFull(serverWords);
    this.#log(`the server is full (${serverWords}): no more files are sent`);
    for (const s of this.#live()) s.send({ type: "stopSending", reason: full });
    this.#failQueue(full);
  }

  /** Gives a ready worker a folder group (first phase) or a batch of files. */
  #assign(slot: Slot) {
    if (this.#ended || this.#interrupted || slot.state !== "ready") return;
    const task = this.#work.next(slot.id, this.#live().length, (r) => this.#addJobs(r));
    if (task?.type === "mkdirs") {
      if (task.group) slot.group = task.dirs;
      slot.give({ type: "mkdirs", dirs: task.dirs });
    } else if (task) slot.give(task);
  }

  /** Walked files join the queue; those under a folder that could not be created fail now. */
  #addJobs({ ready: jobs, blocked }: Release) {
    for (const { job, reason } of blocked) this.#record(unsentResult(job, reason), 0);
    this.#work.ledger.add(jobs);
    if (this.#work.full) this.#failQueue(this.#work.full);
    for (const s of this.#live()) this.#assign(s);
    this.#checkDone();
  }

  #startUploads() {
    // Files under a folder that could not be created fail now, with the reason.
    for (const { job, reason } of this.#work.blocked()) this.#record(unsentResult(job, reason), 0);
    for (const s of this.#live()) this.#assign(s);
    this.#checkDone();
  }

  /**
   * A worker ended: the one place its work goes back (`returned`: its own copies
   * of files, with their progress), then the run goes on with fewer
   * connections, replaces it, tries the slot again later, or ends.
   */
  #lose(slot: Slot, loss: Loss, returned: UploadJob[] = []) {
    if (slot.state === "gone") return;
    slot.end(loss.how === "crashed" || loss.how === "stalled");
    this.#work.release(slot.id, slot.group, returned);
    this.#bytes.lost(slot.id);
    slot.group = undefined;
    if (loss.how === "refused") this.#refused(slot);
    else if (loss.how === "connectFailed") this.#connectFailed(loss.error);
    else this.#crashed(slot, loss);
    this.#afterRelease();
  }

  /** Files went back to the queue: fail them if nothing more is sent, else hand them out. */
  #afterRelease() {
    if (this.#interrupted) this.#work.ledger.drainQueue();
    if (this.#work.full) this.#failQueue(this.#work.full);
    for (const s of this.#live()) this.#assign(s);
    this.#checkDone();
  }

  /** Refused as one too many: fewer connections now, the slot tried again later by time. */
  #refused(slot: Slot) {
    const live = this.#live().length;
    // A slot tried again and refused again is not news.
    if (!this.#probes.delete(slot.id) && live < this.#conn.limit) {
      this.#conn.limit = Math.max(1, live);
      this.#log(`server refused a connection (too many); continuing with ${this.#conn.limit}`);
    }
    const delay = this.#retry.refused(live > 0, this.#conn.everReady);
    if (delay === undefined) {
      const reason = "server refused every connection (too many connections)";
      this.#conn.connectError ??= reason;
      return this.#failRemaining({ reason, failure: Failure.NotSent });
    }
    this.#later(delay, () => {
      if (this.#work.waiting && this.#live().length < this.opts.workers) {
        this.#conn.limit = this.#live().length + 1;
        this.#probes.add(this.#spawn(true) ?? 0);
      }
    });
  }

  #connectFailed(error: string) {
    // The run's own "could not connect" line says it when nothing ever logged in.
    if (this.#conn.everReady) this.#log(`connection: ${error}`);
    this.#conn.connectError ??= error;
    this.#afterLoss(false);
  }

  #crashed(slot: Slot, loss: { how: "crashed" | "stalled"; error: string }) {
    if (loss.how === "crashed") {
      this.#log(`worker ${slot.id} died (${loss.error}); its files go to another worker`);
      this.#conn.lastCrash = loss.error;
    } else {
      this.#log(`watchdog (second line of defence): connection ${slot.id} ${loss.error}`);
    }
    this.#afterLoss(true);
  }

  /** After a worker is lost: replace it while there is work, or end the run. */
  #afterLoss(crashed: boolean) {
    if (this.#ended || this.#interrupted) return this.#checkDone();
    const live = this.#live().length;
    // A crash is replaced at once; a lost connection only when none is left (and one worked).
    const replace = crashed || (live === 0 && this.#conn.everReady);
    if (replace && this.#work.waiting && this.#retry.replace()) {
      this.#spawn(true);
      return;
    }
    if (live > 0) return;
    this.#failRemaining(unsentReason({
      connected: this.#conn.everReady,
      connectError: this.#conn.connectError,
      crash: this.#conn.lastCrash,
      interrupted: this.#interrupted !== undefined,
    }));
  }

  /** Ends a worker that held work and showed no life for `limitMs`. */
  #watch(limitMs: number) {
    const now = performance.now();
    for (const s of this.#live()) {
      const busy = s.state === "connecting" || this.#work.holds(s.id, s.group !== undefined);
      if (!busy || now - s.lastSeen < limitMs) continue;
      const secs = Math.round((now - s.lastSeen) / 1000);
      const held = this.#work.ledger.holding(s.id);
      this.#lose(s, {
        how: "stalled",
        error: `showed no progress for ${secs} s; ended, its ${held} file(s) go back to the queue`,
      });
    }
  }

  /** A job's final result: counted, told. */
  #record(result: JobResult, worker: number) {
    const pooled = { ...result, worker };
    this.#bytes.finished(worker, result);
    this.opts.onResult?.(result.id, pooled);
  }

  #emit(event: RunEvent) {
    this.opts.onEvent?.(event);
  }

  #failQueue(reason: string, kind?: Failure) {
    for (const j of this.#work.ledger.drainQueue()) this.#record(unsentResult(j, reason, kind), 0);
    this.#checkDone();
  }

  #failRemaining({ reason, failure }: Unsent) {
    for (const j of this.#work.stop()) this.#record(unsentResult(j, reason, failure), 0);
    this.#failQueue(reason, failure);
    this.#end();
  }

  #checkDone() {
    if (!this.#ended && this.#work.finished(this.#interrupted !== undefined)) this.#end();
  }

  #interrupt(reason: unknown) {
    if (this.#interrupted || this.#ended) return;
    this.#interrupted = reason === "SIGTERM" ? "SIGTERM" : "SIGINT";
    this.#log(`${this.#interrupted}: stopping; partial files stay on the server to be resumed`);
    this.#work.ledger.drainQueue();
    this.#work.stop();
    for (const s of this.#live()) s.send({ type: "interrupt" });
    // A worker stuck in a socket call must not hold the report back.
    this.#later(INTERRUPT_WAIT_MS, () => this.#end());
    this.#checkDone();
  }

  #end() {
    if (this.#ended) return;
    this.#ended = true;
    this.#timers.forEach(clearTimeout);
    this.#done.resolve();
  }

  async #closeAll() {
    await Promise.all(this.#live().map((s) => s.finish()));
    for (const s of this.#slots.values()) s.worker.terminate();
  }
}

/** Why a worker handed its files back: refused as too many, or the server unreachable. */
function shrinkLoss(m: { reason: "tooMany" | "unreachable"; error: string }): Loss {
  return m.reason === "unreachable" ? { how: "connectFailed", error: m.error } : { how: "refused" };
}
