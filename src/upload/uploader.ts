/**
 * Uploads files over one connection and owns the reconnect loop: every
 * attempt asks the server what it has, sends only the rest, verifies the size,
 * gives the file the local modification time (`remote_state.ts`) and (atomic
 * mode) renames the temporary file onto the real name. Used by
 * `workers/upload_worker.ts`; free of worker plumbing so tests can drive it.
 * It tells its listeners of retries and reconnects, and `progress()` says how
 * far the transfer under way got. Over 350 lines: the attempt loop is one
 * piece; the decisions it takes are in `retry.ts`, the protocol in `src/ftp/`.
 *
 * @module
 */

import { openSession } from "../ftp/open_session.ts";
import { LocalFileError, PartialUploadError, ResumeRefused } from "../ftp/errors.ts";
import { safeText } from "../ftp/server_text.ts";
import type { ResumeMethod, Session as FtpSession } from "../ftp/session.ts";
import type { JobResult, RetryNotice, TransferProgress, UploadJob, UploadSettings } from "./job.ts";
import {
  classifyError,
  type ErrorAction,
  OutageClock,
  RetryBudget,
  toConnectError,
  VerifyError,
} from "./retry.ts";
import { tempPathFor } from "./temp_name.ts";
import { finishUpload, type TimeHolder } from "./remote_state.ts";

/** The server wants fewer connections: hand `job` (with its progress so far) back. */
export class ShrinkRequest extends Error {
  constructor(readonly job?: UploadJob) {
    super("server refused another connection (too many)");
    this.name = "ShrinkRequest";
  }
}

/** Called for each re-login after a lost connection, with the retry that asked for it. */
export type ReconnectListener = (cause?: RetryNotice) => void;
/** Called when a failed try is followed by another, before the pause. */
export type RetryListener = (notice: RetryNotice) => void;

export class Uploader {
  #session?: FtpSession;
  #interrupted = false;
  #connectedOnce = false;
  #outage = new OutageClock();
  // Learned per server and kept across reconnects for the rest of the run.
  #restStore?: boolean;
  #append?: boolean;
  #times: TimeHolder = {};
  /** The retry that dropped the connection, told with the reconnect that follows it. */
  #lostBy?: RetryNotice;
  /** The transfer under way, for `progress()`. */
  #current?: { id: number; before: number; start: number; session: FtpSession };

  constructor(
    readonly settings: UploadSettings,
    readonly onReconnect: ReconnectListener = () => {},
    readonly onRetry: RetryListener = () => {},
  ) {}

  /** Where the transfer under way stands (undefined between transfers). */
  progress(): TransferProgress | undefined {
    const c = this.#current;
    if (!c) return undefined;
    const sending = c.session.sending;
    return { id: c.id, bytesSent: c.before + sending, position: c.start + sending };
  }

  /** Logs in (once); throws ConnectError. */
  async connect(): Promise<void> {
    await this.#live();
  }

  /** Stops the current transfer; the remote partial file stays resumable. */
  interrupt(): void {
    this.#interrupted = true;
    this.#session?.close();
    this.#wake?.();
  }

  #wake?: () => void;

  /** A backoff pause that an interrupt cuts short. */
  #sleep(ms: number): Promise<void> {
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

  get interrupted(): boolean {
    return this.#interrupted;
  }

  async close(): Promise<void> {
    const s = this.#session;
    this.#session = undefined;
    if (!s || s.closed) return;
    await s.quit();
  }

  /** Creates folders in order (parents first); tells which it created and which failed. */
  async mkdirs(
    dirs: string[],
  ): Promise<{ created: string[]; failed: { dir: string; error: string }[] }> {
    const created: string[] = [];
    const failed: { dir: string; error: string }[] = [];
    for (const dir of dirs) {
      if (this.#interrupted) break;
      try {
        if (await this.#withRetries(dir, (s) => s.mkdir(dir))) created.push(dir);
      } catch (e) {
        if (e instanceof ShrinkRequest) throw e;
        failed.push({ dir, error: this.describe(e) });
      }
    }
    return { created, failed };
  }

  /** One line for the log and the report, never with the password or control characters. */
  describe(e: unknown): string {
    return describe(e, [this.settings.server.password]);
  }

  /** Uploads one file with resume and verification; never throws except ShrinkRequest. */
  async upload(job: UploadJob): Promise<JobResult> {
    const started = performance.now();
    const s = this.settings;
    const target = s.atomic ? tempPathFor(job.destination, job.size, job.mtimeMs) : job.destination;
    const budget = new RetryBudget(s, this.#outage, job.carried?.attempts ?? 0);
    let bytesSent = job.carried?.bytesSent ?? 0;
    const resumedFrom = [...(job.carried?.resumedFrom ?? [])];
    // Atomic: a leftover temporary file of the same content is worth resuming.
    let askServer = (s.atomic && !job.fresh) || budget.tries > 0;
    let method: ResumeMethod = this.#preferredMethod();
    let lastError = "";
    let restart = false;
    const result = (
      status: JobResult["status"],
      extra: Partial<JobResult> = {},
    ): JobResult => ({
      id: job.id,
      status,
      bytesSent,
      attempts: budget.tries,
      resumedFrom,
      durationMs: Math.round(performance.now() - started),
      ...extra,
    });
    const failed = (error: string) => result("failed", { error });

    for (;;) {
      if (this.#interrupted) return failed("interrupted");
      budget.start();
      try {
        const session = await this.#live();
        let offset = 0;
        let have: number | undefined;
        if (askServer && !restart) {
          have = await session.size(target);
          if (have !== undefined && have <= job.size) offset = have;
        }
        // Continuing a file needs the same local content as before.
        if (offset > 0) checkLocal(job);
        askServer = true;
        restart = false;
        let final: number | undefined;
        let known = false;
        if (have === undefined || have !== job.size) {
          if (offset === 0) method = "rest";
          const start = method === "restart" ? 0 : offset;
          this.#current = { id: job.id, before: bytesSent, start, session };
          try {
            const out = await session.upload(job.source, target, offset, method, job.size);
            bytesSent += out.bytesSent;
            if (out.offset > 0) resumedFrom.push(out.offset);
            if (out.sizeAfter) [final, known] = [out.sizeAfter.size, true];
          } catch (e) {
            if (e instanceof ResumeRefused) {
              this.#learn(session);
              method = this.#preferredMethod();
              budget.refund(); // a refused method sent nothing: not an attempt
              continue;
            }
            throw e;
          } finally {
            this.#current = undefined;
            this.#learn(session);
          }
        }
        // Every attempt, after the last byte was read: the bytes sent are one version of the file.
        checkLocal(job);
        if (!known) final = await session.size(target);
        if (final !== job.size) {
          throw new VerifyError(
            `size check failed: server has ${final ?? "no file"}, local file has ${job.size} bytes`,
          );
        }
        const verified = s.verify === "hash" && await verifyHash(session, target, job.source)
          ? "hash"
          : "size";
        const destination = s.atomic ? job.destination : undefined;
        const timeSet = await finishUpload(session, this.#times, target, destination, job.mtimeMs);
        return result("uploaded", { verified, timeSet });
      } catch (e) {
        if (e instanceof PartialUploadError) {
          bytesSent += e.bytesSent;
          if (e.offset > 0) resumedFrom.push(e.offset);
        }
        if (e instanceof VerifyError && e.restart) restart = true;
        if (this.#interrupted) return failed("interrupted");
        const action = classifyError(e);
        lastError = this.describe(e);
        if (action === "tooMany") {
          this.#drop();
          budget.refund();
          throw new ShrinkRequest({
            ...job,
            carried: { attempts: budget.tries, bytesSent, resumedFrom },
          });
        }
        if (action === "full") return result("failed", { error: lastError, serverFull: true });
        if (action === "fatal") return failed(lastError);
        const pause = this.#afterFailure(budget, action);
        if (pause === undefined) break;
        this.#retrying(job.destination, budget, action, lastError, pause);
        if (pause > 0) await this.#sleep(pause);
      }
    }
    return failed(`gave up after ${budget.tries} attempts: ${lastError}`);
  }

  /** Tells `onRetry` of the next try; one that drops the connection is told again on reconnect. */
  #retrying(path: string, budget: RetryBudget, action: ErrorAction, error: string, pause: number) {
    const attempt = budget.tries + 1;
    const notice = { path, attempt, error, delayMs: pause, reconnect: action !== "retry" };
    if (notice.reconnect) this.#lostBy = notice;
    this.onRetry(notice);
  }

  /** Drops the connection when the action needs a new one; the pause before the next try. */
  #afterFailure(budget: RetryBudget, action: ErrorAction): number | undefined {
    if (action !== "retry") this.#drop();
    return budget.after(action);
  }

  /** Runs `op` on a live session, reconnecting on lost connections, within the retry budget. */
  async #withRetries<T>(path: string, op: (s: FtpSession) => Promise<T>): Promise<T> {
    const budget = new RetryBudget(this.settings, this.#outage);
    for (;;) {
      budget.start();
      try {
        return await op(await this.#live());
      } catch (e) {
        const action = classifyError(e);
        if (action === "tooMany") {
          this.#drop();
          throw new ShrinkRequest();
        }
        if (action === "fatal" || action === "full" || this.#interrupted) throw e;
        const pause = this.#afterFailure(budget, action);
        if (pause === undefined) throw e;
        this.#retrying(path, budget, action, this.describe(e), pause);
        if (pause > 0) await this.#sleep(pause);
      }
    }
  }

  async #live(): Promise<FtpSession> {
    if (this.#session && !this.#session.closed) return this.#session;
    this.#session = undefined;
    try {
      const session = await openSession(
        this.settings.server,
        this.settings.timeoutMs,
      );
      session.abilities.restStore ??= this.#restStore;
      session.abilities.append ??= this.#append;
      this.#session = session;
    } catch (e) {
      throw toConnectError(e, (err) => this.describe(err));
    }
    this.#outage.ended();
    if (this.#connectedOnce) this.onReconnect(this.#lostBy);
    this.#lostBy = undefined;
    this.#connectedOnce = true;
    return this.#session;
  }

  #drop(): void {
    this.#session?.close();
    this.#session = undefined;
  }

  #learn(session: FtpSession): void {
    if (session.abilities.restStore !== undefined) {
      this.#restStore = session.abilities.restStore;
    }
    if (session.abilities.append !== undefined) {
      this.#append = session.abilities.append;
    }
  }

  #preferredMethod(): ResumeMethod {
    if (this.#restStore !== false) return "rest";
    if (this.#append !== false) return "appe";
    return "restart";
  }
}

/**
 * One line, no stack, made safe to show (`safeText`: control characters
 * escaped, each of `secrets` replaced), since servers echo what they got.
 */
function describe(e: unknown, secrets: readonly (string | undefined)[] = []): string {
  let text = String(e);
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    text = e.message.replace(/\s+/g, " ").trim();
    if (typeof code === "number" && !text.startsWith(String(code))) text = `${code} ${text}`;
  }
  return safeText(text, secrets);
}

/**
 * The local file must be what the run saw at the start: same size and mtime,
 * and same inode and change time where the platform gives them (a rewrite in
 * place with the same size and a restored mtime still changes ctime; Deno
 * gives ctime to the second, so only a change in a later second shows).
 */
function checkLocal(job: UploadJob): void {
  let info: Deno.FileInfo;
  try {
    // Synchronous, like the transport's file reads: this worker's thread has nothing else to do.
    info = Deno.statSync(job.source);
  } catch (e) {
    throw new LocalFileError(`local file unreadable: ${describe(e)}`);
  }
  const changed = info.size !== job.size ? "size" : info.mtime &&
      Math.floor(info.mtime.getTime()) !== Math.floor(job.mtimeMs)
    ? "mtime"
    : job.ino !== undefined && info.ino !== null && info.ino !== job.ino
    ? "inode"
    : job.ctimeMs !== undefined && info.ctime && info.ctime.getTime() !== job.ctimeMs
    ? "ctime"
    : undefined;
  if (changed) {
    throw new LocalFileError(
      `local file changed during the run (${changed} differs); run again to upload the new content`,
    );
  }
}

const HASH_ALGORITHMS: Record<string, string> = {
  XSHA256: "sha256",
  XSHA1: "sha1",
  XMD5: "md5",
};

async function verifyHash(
  session: FtpSession,
  remote: string,
  local: string,
): Promise<boolean> {
  const algo = HASH_ALGORITHMS[session.abilities.hash ?? ""];
  if (!algo) return false; // no usable hash command: the size check stands alone
  const theirs = await session.hash(remote);
  if (!theirs) return false;
  // Loaded on first use: most runs never hash, and workers start faster without it.
  const { createHash } = await import("node:crypto");
  const { createReadStream } = await import("node:fs");
  const h = createHash(algo);
  for await (const chunk of createReadStream(local)) h.update(chunk);
  const ours = h.digest("hex");
  if (ours !== theirs) {
    throw new VerifyError(`hash check failed: server ${theirs}, local ${ours}`, true);
  }
  return true;
}
