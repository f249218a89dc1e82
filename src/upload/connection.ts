/**
 * One upload connection kept alive across losses: the FTP session, opened on
 * first use and again after a drop, and what was learned of the server (one
 * abilities object, given to every new session, so a resume method the server
 * refused is not tried again after a reconnect). It tells its listener of each
 * re-login with the retry that caused it, and it owns the interruptible pause
 * of its retry loops (`retry.ts`).
 *
 * @module
 */

import { openSession } from "../ftp/open_session.ts";
import { carriesServerText, safeText } from "../ftp/server_text.ts";
import type { ResumeMethod, Session } from "../ftp/session.ts";
import type { ServerAbilities } from "../ftp/abilities.ts";
import type { RetryNotice, UploadSettings } from "./job.ts";
import { type ErrorAction, OutageClock, Pause, toConnectError } from "./retry.ts";

/** Called for each re-login after a lost connection, with the retry that asked for it. */
export type ReconnectListener = (cause?: RetryNotice) => void;
/** Called when a failed try is followed by another, before the pause. */
export type RetryListener = (notice: RetryNotice) => void;

/** What a session learns of the server from its replies, kept for the sessions after it. */
const LEARNED = ["restStore", "append", "earlyData", "trailing", "earlyTls"] as const;
type Learned = Pick<ServerAbilities, typeof LEARNED[number]>;

export class Connection {
  #session?: Session;
  #interrupted = false;
  #connectedOnce = false;
  /** Learned per server and kept across reconnects for the rest of the run. */
  readonly #learned: Learned = {};
  /** The retry that dropped the connection, told with the reconnect that follows it. */
  #lostBy?: RetryNotice;
  /** The pause between tries: an interrupt cuts it short. */
  readonly pause = new Pause();
  /** One outage clock per connection: a reconnect failing at the network level spends no tries for a while. */
  readonly outage: OutageClock;

  constructor(
    readonly settings: UploadSettings,
    readonly onReconnect: ReconnectListener = () => {},
    readonly onRetry: RetryListener = () => {},
  ) {
    this.outage = new OutageClock(settings.outageWindowMs);
  }

  get interrupted(): boolean {
    return this.#interrupted;
  }

  /** Stops what is under way; the remote partial file stays resumable. */
  interrupt(): void {
    this.#interrupted = true;
    this.#session?.close();
    this.pause.wake();
  }

  /** The logged-in session, logging in (again) when there is none; throws ConnectError. */
  async live(): Promise<Session> {
    if (this.#session && !this.#session.closed) return this.#session;
    this.#session = undefined;
    try {
      const session = await openSession(this.settings.server, this.settings.timeoutMs);
      for (const k of LEARNED) session.abilities[k] ??= this.#learned[k];
      this.#session = session;
    } catch (e) {
      throw toConnectError(e, (err) => this.describe(err));
    }
    this.outage.ended();
    if (this.#connectedOnce) this.onReconnect(this.#lostBy);
    this.#lostBy = undefined;
    this.#connectedOnce = true;
    return this.#session;
  }

  /** The session now, if one is open (nothing is opened). */
  get session(): Session | undefined {
    return this.#session;
  }

  /** Closes the session: the next `live()` logs in again. */
  drop(): void {
    this.#session?.close();
    this.#session = undefined;
  }

  /** Keeps what `session` learned of the server for the sessions after it. */
  learn(session: Session): void {
    for (const k of LEARNED) this.#learned[k] = session.abilities[k] ?? this.#learned[k];
  }

  /** How to continue a partial file on this server: REST+STOR, else APPE, else from 0. */
  preferredMethod(): ResumeMethod {
    if (this.#learned.restStore !== false) return "rest";
    if (this.#learned.append !== false) return "appe";
    return "restart";
  }

  /**
   * A failed try of `path` is followed by another after `pauseMs`: drops the
   * connection when the action needs a new one and tells `onRetry` (and, for a
   * dropped connection, the reconnect that follows).
   */
  retrying(path: string, action: ErrorAction, attempt: number, error: string, pauseMs: number) {
    const reconnect = action !== "retry";
    if (reconnect) this.drop();
    const notice = { path, attempt, error, delayMs: pauseMs, reconnect };
    if (reconnect) this.#lostBy = notice;
    this.onRetry(notice);
  }

  async close(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    if (!s || s.closed) return;
    await s.quit();
  }

  /** One line for the log and the report, never with the password or control characters. */
  describe(e: unknown): string {
    return describe(e, [this.settings.server.password]);
  }
}

/**
 * One line, no stack, made safe to show (`safeText`: control characters
 * escaped, each of `secrets` replaced), since servers echo what they got.
 */
export function describe(e: unknown, secrets: readonly (string | undefined)[] = []): string {
  let text = String(e);
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    text = e.message.replace(/\s+/g, " ").trim();
    if (typeof code === "number" && !text.startsWith(String(code))) text = `${code} ${text}`;
  }
  // Only server text can carry the password; a local error names the tool's own paths.
  return safeText(text, carriesServerText(e) ? secrets : []);
}
