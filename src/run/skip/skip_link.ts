/**
 * A connection of the skip phase (`remote_check.ts`, `folder_skip.ts`):
 * opened on first use, opened again after a lost connection, in the retry
 * loop of `upload/retry.ts`. A refusal is an answer and is thrown at once.
 * Inside an upload worker the link can ride on the worker's own login
 * (`session`): no second login, and the connection stays open for the uploads.
 *
 * @module
 */

import { openSession } from "../../ftp/open_session.ts";
import type { FtpLogin } from "../../ftp/login.ts";
import { ConnectionLost } from "../../ftp/errors.ts";
import type { Session } from "../../ftp/session.ts";
import { GaveUp, Pause, RetryBudget, retryLoop } from "../../upload/retry.ts";
import type { SessionRunner } from "./remote_state.ts";

export interface SkipLinkOptions {
  login: FtpLogin;
  timeoutMs: number;
  /** Reconnects allowed per operation after a lost connection. */
  retries: number;
  /** The pause before a reconnect (none when absent). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  signal?: AbortSignal;
  /**
   * The upload worker's own connection (`worker_check.ts`): used instead of a
   * login of the link's own, and left open by `close` (the uploads go on it).
   */
  session?: () => Promise<Session>;
}

export class SkipLink {
  #session?: Session;
  #pause = new Pause();
  readonly runner: SessionRunner;

  constructor(readonly o: SkipLinkOptions) {
    this.runner = (op) => this.run(op);
  }

  /** Runs `op` in the retry loop; throws the last error when the tries run out. */
  async run<T>(op: (s: Session) => Promise<T>): Promise<T> {
    const timing = { backoffBaseMs: 0, backoffMaxMs: 0, ...this.o };
    try {
      return await retryLoop(
        async () => {
          if (!this.#session || this.#session.closed) {
            this.#session = this.o.session
              ? await this.o.session()
              : await openSession(this.o.login, this.o.timeoutMs);
          }
          return await op(this.#session);
        },
        new RetryBudget(timing),
        this.#pause,
        {
          // Only a lost connection is worth another try; a refusal is an answer.
          classify: (e) => e instanceof ConnectionLost ? "reconnect" : "fatal",
          stopped: () => this.o.signal?.aborted === true,
          retrying: () => this.drop(),
        },
      );
    } catch (e) {
      throw e instanceof GaveUp ? e.last : e;
    }
  }

  features(): Promise<ReadonlyMap<string, string>> {
    return this.run((s) => Promise.resolve(s.features));
  }

  /** Closes the connection at once (after a failure); the next `run` opens another. */
  drop(): void {
    this.#session?.close();
    this.#session = undefined;
  }

  /** Says goodbye to the server (the work is over). */
  async close(): Promise<void> {
    if (!this.o.session) await this.#session?.quit().catch(() => {});
    this.#session = undefined;
  }
}
