/**
 * One connection for the deploy steps around a run (the remote lock, the
 * manifest, mirror deletions): opened on first use, logged in again after a
 * lost connection (up to `retries` times per operation). A refusal is an
 * answer and is thrown at once.
 *
 * @module
 */

import { openSession } from "../../ftp/open_session.ts";
import type { FtpLogin } from "../../ftp/login.ts";
import { ConnectionLost } from "../../ftp/errors.ts";
import type { Session } from "../../ftp/session.ts";

export interface LinkOptions {
  login: FtpLogin;
  timeoutMs: number;
  retries: number;
}

export class DeployLink {
  #session?: Session;

  constructor(readonly o: LinkOptions) {}

  async run<T>(op: (s: Session) => Promise<T>): Promise<T> {
    for (let attempt = 0;; attempt++) {
      try {
        if (!this.#session || this.#session.closed) {
          this.#session = await openSession(this.o.login, this.o.timeoutMs);
        }
        return await op(this.#session);
      } catch (e) {
        if (!(e instanceof ConnectionLost) || attempt >= this.o.retries) throw e;
        this.#session?.close();
        this.#session = undefined;
      }
    }
  }

  async close(): Promise<void> {
    await this.#session?.quit().catch(() => {});
    this.#session = undefined;
  }
}
