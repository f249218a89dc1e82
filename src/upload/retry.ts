/**
 * The one place that decides when to try again: the retry loop every
 * operation runs in (`retryLoop`: the uploader's file and folder tries, the
 * worker's first connect, the skip phase's listing connection), the budget of
 * tries and the backoff between them, the outage clock, the pool's
 * replacement of lost workers and of refused slots, and the watchdog's limit.
 * What an error means is decided where it is met (`classify.ts`).
 *
 * The rules, in one place:
 * - A try that failed is counted against `retries` (the report's `attempts`),
 *   then a backoff pause (doubling, jittered) precedes the next try.
 * - An idle drop (`ConnectionLost` with `idle`: the server closed a connection
 *   that sat between files) reconnects at once, no pause, not counted; once
 *   per operation, so a server that keeps dropping still uses the budget.
 * - An outage is counted by time, not by tries: while reconnecting fails at
 *   the network level ("unreachable": refused, no answer), a file's tries are
 *   not spent for up to {@linkcode OUTAGE_WINDOW_MS} from the first such
 *   failure in a row (a server restarting); past that window each failure
 *   counts. The first connect of a worker is not covered: a wrong port or a
 *   dead host fails after `retries` tries.
 * - The loop itself handles `retry`, `reconnect`, `reconnectNow` and
 *   `unreachable`; `fatal`, `full` and `tooMany` go back to the caller (fail
 *   the file, stop sending, shrink the pool) at once.
 * - The pool replaces a crashed worker, and tries a refused slot again by
 *   time ({@linkcode PoolRetry}); its watchdog ends a worker that shows no
 *   life for {@linkcode stallLimitMs}.
 *
 * @example
 * ```ts
 * import { backoffDelay, classifyError } from "./retry.ts";
 * import { FTPError } from "../ftp/errors.ts";
 * classifyError(new FTPError({ code: 421, message: "421 Too many connections" })); // "tooMany"
 * backoffDelay(3, 1000, 30000, () => 0.5); // 3000 (ceiling 4000, half of it jittered)
 * ```
 *
 * @module
 */

import { classifyError, type ErrorAction, GaveUp, messageOf } from "./classify.ts";

export {
  CERT_HINT,
  checkSendable,
  classifyError,
  ConnectError,
  type ErrorAction,
  GaveUp,
  SSH_SERVER,
  toConnectError,
  UnsendableName,
  VerifyError,
} from "./classify.ts";

/** An outage this long (from its first failed reconnect) does not spend a file's tries. */
export const OUTAGE_WINDOW_MS = 60_000;

/**
 * Delay before try `attempt` (1 = first retry): base doubling up to max,
 * with "equal jitter" so parallel workers do not reconnect in lockstep.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (ceiling / 2) * random());
}

/** How many retries and how long between them. */
export interface RetryTiming {
  retries: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

/** Time since the first failed reconnect of the current outage; one per connection. */
export class OutageClock {
  #since?: number;
  #tries = 0;
  constructor(
    readonly windowMs: number = OUTAGE_WINDOW_MS,
    readonly now = () => performance.now(),
  ) {}

  /** A reconnect failed at the network level: the pause before the next, or undefined past the window. */
  failed(timing: RetryTiming): number | undefined {
    const now = this.now();
    this.#since ??= now;
    if (now - this.#since >= this.windowMs) return undefined;
    return backoffDelay(++this.#tries, timing.backoffBaseMs, timing.backoffMaxMs);
  }

  /** Connected again: the outage is over. */
  ended(): void {
    this.#since = undefined;
    this.#tries = 0;
  }
}

/**
 * The tries of one operation (one file, one folder list, one first connect).
 * `tries` counts the tries that count; `after` says what follows a failure.
 */
export class RetryBudget {
  #idleForgiven = false;
  constructor(
    readonly timing: RetryTiming,
    /** Absent for a first connect: there an unreachable server spends tries. */
    readonly outage?: OutageClock,
    public tries = 0,
  ) {}

  /** A try starts. */
  start(): void {
    this.tries++;
  }

  /** The try that just failed does not count (a refused resume method sent nothing). */
  refund(): void {
    this.tries--;
  }

  /**
   * After a failed try whose action is `retry`, `reconnect`, `reconnectNow` or
   * `unreachable`: the pause before the next try, or undefined to give up.
   */
  after(action: ErrorAction): number | undefined {
    if (action === "reconnectNow" && !this.#idleForgiven) {
      this.#idleForgiven = true;
      this.tries--;
      return 0;
    }
    if (action === "unreachable" && this.outage) {
      const pause = this.outage.failed(this.timing);
      if (pause !== undefined) {
        this.tries--;
        return pause;
      }
    }
    if (this.tries > this.timing.retries) return undefined;
    return backoffDelay(this.tries, this.timing.backoffBaseMs, this.timing.backoffMaxMs);
  }
}

/**
 * How long a worker may show no life (no message, no byte moved) while it
 * holds work before the pool's watchdog ends it: three timeouts (a command,
 * a reconnect, a data connection) plus the longest backoff pause.
 */
export function stallLimitMs(t: RetryTiming & { timeoutMs: number }): number {
  return 3 * t.timeoutMs + t.backoffMaxMs;
}

/**
 * The pool's decisions about its connections: whether a lost worker is
 * replaced, and when a slot refused as one connection too many is tried again.
 *
 * - A worker that crashed or was ended is replaced, up to three times the
 *   configured connection count over the run (a bug that kills every worker
 *   must not loop).
 * - Refused as one too many while other connections work: the slot is tried
 *   again later, by time (doubling pauses up to `backoffMaxMs`), for the rest
 *   of the run: one refusal after a cut is usually the server still counting
 *   the dead session.
 * - Refused with no connection left: once the run had logged in, waited for
 *   by time as an outage ({@linkcode OutageClock}); a server that never let
 *   us in fails after `retries` tries.
 */
export class PoolRetry {
  #respawns = 0;
  #refusedInRow = 0;
  #outage = new OutageClock();

  constructor(readonly timing: RetryTiming, readonly workers: number) {}

  /** A worker was lost: may another one be started in its place? */
  replace(): boolean {
    if (this.#respawns >= this.workers * 3) return false;
    this.#respawns++;
    return true;
  }

  /**
   * A connection was refused as one too many: the pause before that slot is
   * tried again, or undefined to give up on it (`othersLive`: the run goes on
   * with the others; `everReady`: some connection logged in before).
   */
  refused(othersLive: boolean, everReady: boolean): number | undefined {
    const { retries, backoffBaseMs, backoffMaxMs } = this.timing;
    this.#refusedInRow++;
    if (othersLive) return backoffDelay(this.#refusedInRow, backoffBaseMs, backoffMaxMs);
    if (everReady) return this.#outage.failed(this.timing);
    if (this.#refusedInRow > retries + 1) return undefined;
    return backoffDelay(this.#refusedInRow, backoffBaseMs, backoffMaxMs);
  }

  /** A connection logged in: refusals in a row start over. */
  loggedIn(): void {
    this.#refusedInRow = 0;
    this.#outage.ended();
  }
}

/** A pause between tries that an interrupt cuts short (`wake`). */
export class Pause {
  #wake?: () => void;

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** Ends the pause under way now (the loop then sees `stopped`). */
  wake(): void {
    this.#wake?.();
  }
}

/** How one operation's loop learns what an error means and tells of a retry. */
export interface RetryHooks {
  /** What an error means (default {@linkcode classifyError}). */
  classify?: (e: unknown) => ErrorAction;
  /**
   * Another try follows after `pauseMs`: `attempt` is its number. Drop the
   * connection here when `action` needs a new one, and tell the listeners.
   */
  retrying?: (e: unknown, action: ErrorAction, attempt: number, pauseMs: number) => void;
  /** Interrupted: no more tries; the last error is thrown as it is. */
  stopped?: () => boolean;
  /** Turns an error into one line for {@linkcode GaveUp}. */
  describe?: (e: unknown) => string;
}

/** The actions this loop handles itself; the others go to the caller, thrown as they came. */
const RETRIED: ReadonlySet<ErrorAction> = new Set([
  "retry",
  "reconnect",
  "reconnectNow",
  "unreachable",
]);

/**
 * The one retry loop: runs `op` until it succeeds. An error whose action is
 * a retry (the same connection, a reconnect, a reconnect at once, an outage)
 * is tried again after the pause `budget` gives, cut short by `pause.wake()`;
 * when the budget is spent it throws {@linkcode GaveUp}. Any other error
 * (`fatal`, `full`, `tooMany`, or anything once `stopped`) is thrown as it
 * came, for the caller to fail the file, stop the run or shrink the pool.
 */
export async function retryLoop<T>(
  op: () => Promise<T>,
  budget: RetryBudget,
  pause: Pause,
  hooks: RetryHooks = {},
): Promise<T> {
  const describe = hooks.describe ?? messageOf;
  for (;;) {
    if (hooks.stopped?.()) throw new GaveUp(new Error("interrupted"), budget.tries, describe);
    budget.start();
    try {
      return await op();
    } catch (e) {
      const action = (hooks.classify ?? classifyError)(e);
      if (!RETRIED.has(action) || hooks.stopped?.()) throw e;
      const ms = budget.after(action);
      if (ms === undefined) throw new GaveUp(e, budget.tries, describe);
      hooks.retrying?.(e, action, budget.tries + 1, ms);
      if (ms > 0) await pause.sleep(ms);
      if (hooks.stopped?.()) throw e;
    }
  }
}
