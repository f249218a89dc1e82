/**
 * The skip check of listed files (`remote_check.ts`) on the first upload
 * worker's own login, not on a login of its own: the worker started early
 * (`warm_workers.ts`) logs in, reads the destination folders, and the pool
 * then adopts it logged in, so its first folder or file goes out at once. A
 * first run to an empty server costs one login less before the first STOR
 * (and one connection less), and once a folder is found missing the other
 * workers log in beside the rest of the check (`loginAhead`); a re-run with
 * nothing to send still costs one login, and no other worker logs in.
 *
 * This is the run's side; the worker's is `check_on_login.ts`. When the worker cannot do it (it did not load, its login
 * needs retries, it died), the run checks as before, on its own connection:
 * this is a shortcut, never a second way to decide.
 *
 * @module
 */

import type { CheckReply, CheckRequest, FromWorker, UploadSettings } from "../pool/messages.ts";
import type { RemoteCheck, RemoteCheckOptions } from "./remote_check.ts";
import type { WarmWorkers } from "../pool/warm_workers.ts";
import type { UploadWorker } from "../pool/inline_worker.ts";

/** Logins refused for good: the run ends there (exit 3), as after the check's own login. */
const FINAL = new Set(["auth", "certificate", "notFtp"]);

/**
 * Runs the check on warm worker 1 and leaves it logged in for the pool;
 * undefined when the worker could not (the caller checks on its own connection).
 */
export async function checkOnWorker(
  warm: WarmWorkers,
  settings: UploadSettings,
  o: RemoteCheckOptions,
): Promise<RemoteCheck | undefined> {
  const w = warm.borrow(1);
  if (!w || w.error !== undefined) return undefined;
  // Once a folder is missing, the other workers log in beside the rest of the check.
  const talk = new WorkerTalk(w.worker, (alone) => {
    o.onMissing?.(alone);
    if (alone) warm.loginAhead({ type: "init", settings });
  });
  const stop = () => w.worker.postMessage({ type: "interrupt" });
  o.signal?.addEventListener("abort", stop);
  try {
    w.told = true;
    w.worker.postMessage({ type: "init", settings });
    const login = await talk.next();
    if (login?.type === "connectFailed" && FINAL.has(login.kind)) {
      warm.discard(1);
      return { send: o.jobs, skipped: [], notes: [], loginRefused: login.error };
    }
    if (login?.type !== "ready" || o.signal?.aborted) return lost(warm);
    const request: CheckRequest = {
      jobs: o.jobs,
      rule: o.rule,
      connections: o.connections,
      ...(o.clock ? { clock: o.clock } : {}),
    };
    w.worker.postMessage({ type: "check", check: request });
    const done = await talk.next();
    if (done?.type !== "checked") return lost(warm);
    warm.adoptReady(1);
    return fromReply(o, done.check);
  } finally {
    o.signal?.removeEventListener("abort", stop);
    talk.close();
  }
}

/** The worker is no use for the run: ended (the pool starts its own), the check done as before. */
function lost(warm: WarmWorkers): undefined {
  warm.discard(1);
  return undefined;
}

/** The worker's answer in the run's terms: its own job objects, the clock as learned. */
function fromReply(o: RemoteCheckOptions, reply: CheckReply): RemoteCheck {
  const byId = new Map(o.jobs.map((j) => [j.id, j]));
  const send = new Set(reply.send);
  if (o.clock) {
    // What the worker learned of the server's clocks holds for the rest of the run.
    Object.assign(o.clock, reply.clock);
  }
  for (const line of reply.logs) o.log?.(line);
  return {
    send: o.jobs.filter((j) => send.has(j.id)),
    skipped: reply.skipped.map((s) => ({ job: byId.get(s.id)!, reason: s.reason })),
    notes: reply.notes,
    ...(reply.loginRefused ? { loginRefused: reply.loginRefused } : {}),
  };
}

/** The messages of the login and the check, one answer at a time; a crash ends them. */
class WorkerTalk {
  #waiting?: (msg: FromWorker | undefined) => void;
  readonly #onerror: UploadWorker["onerror"];

  constructor(readonly worker: UploadWorker, readonly onMissing?: (alone: boolean) => void) {
    // Heard here until the pool adopts the worker (its slot sets its own handlers).
    this.#onerror = worker.onerror;
    worker.onmessage = (e: MessageEvent<FromWorker>) => {
      const msg = e.data;
      if (msg.type === "missing") return this.onMissing?.(msg.alone);
      if (ANSWERS.has(msg.type)) this.#answer(msg); // progress, alive: nobody listens yet
    };
    worker.onerror = (e: ErrorEvent) => {
      this.#onerror?.(e); // the warm worker's own: keeps the error, stops the default
      this.#answer(undefined);
    };
  }

  /** The next answer (`ready`, `connectFailed`, `connectRetry`, `checked`); undefined: it died. */
  next(): Promise<FromWorker | undefined> {
    return new Promise((resolve) => this.#waiting = resolve);
  }

  #answer(msg: FromWorker | undefined) {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    waiting?.(msg);
  }

  close() {
    this.worker.onmessage = null;
    this.worker.onerror = this.#onerror;
  }
}

const ANSWERS = new Set(["ready", "connectFailed", "connectRetry", "checked", "closed"]);
