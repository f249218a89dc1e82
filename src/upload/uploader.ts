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
 * Files on one connection are pipelined (`pipeline`): the SIZE that proves a
 * file goes out with the next file's EPSV, and its rename rides in front of
 * the next file's STOR (`parked.ts`), so a file costs about three round trips
 * instead of six. Nothing is sent while a transfer is open.
 *
 * Over 350 lines: the retry loop, the folder phase and the pipelining share one
 * connection's state (the session, what was learned of the server, the parked
 * renames); apart, each would reach into the others' private fields.
 *
 * @module
 */

import { openSession } from "../ftp/open_session.ts";
import {
  ConnectionLost,
  LocalFileError,
  PartialUploadError,
  ResumeRefused,
} from "../ftp/errors.ts";
import { carriesServerText, safeText } from "../ftp/server_text.ts";
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
import { Parked } from "./parked.ts";
import { finishUpload, type TimeHolder } from "./remote_state.ts";
import { cannotSetTimes, knownTimeLine, setRemoteTime, timeSettingFor } from "../ftp/set_mtime.ts";
import type { Reply } from "../ftp/reply.ts";

/**
 * The server wants fewer connections: hand `jobs` (with their progress so far) back;
 * `results`: files finished before it came (parked renames confirmed).
 */
export class ShrinkRequest extends Error {
  constructor(readonly jobs: UploadJob[] = [], readonly results: JobResult[] = []) {
    super("server refused another connection (too many)");
    this.name = "ShrinkRequest";
  }
}

/** Folders created per pipelined write. */
const MKD_CHUNK = 100;

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
  #earlyData?: boolean;
  /** Verified files whose rename rides in front of a later command (`parked.ts`). */
  #parked: Parked[] = [];
  /** Jobs whose rename went out (verified temporary file) but whose replies were lost. */
  #renameSent = new Set<number>();
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
    // Pipelined, a round trip per chunk instead of per folder; a folder refused there (or
    // a chunk whose connection was lost) goes the one-by-one way below, retries and all.
    const alone: string[] = [];
    for (let i = 0; i < dirs.length && !this.#interrupted; i += MKD_CHUNK) {
      const chunk = dirs.slice(i, i + MKD_CHUNK);
      try {
        const out = await this.#withRetries(chunk[0], (s) => s.mkdirAll(chunk));
        chunk.forEach((dir, j) => {
          if (out[j] === true) created.push(dir);
          else if (out[j] !== false) alone.push(dir);
        });
      } catch (e) {
        if (e instanceof ShrinkRequest) throw e;
        alone.push(...chunk);
      }
    }
    for (const dir of alone) {
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

  /**
   * Uploads `job` like `upload`; with `more()` (another file follows on this connection) its
   * rename may ride in front of the next file's first command, and its result then comes
   * from a later call or from `settle`. Returns the results finished meanwhile, in no
   * particular order. Never throws except ShrinkRequest (which hands back every file not
   * finished, parked ones included).
   */
  async pipeline(job: UploadJob, more: () => boolean): Promise<JobResult[]> {
    let own: JobResult | undefined;
    try {
      own = await this.#upload(job, more);
    } catch (e) {
      if (!(e instanceof ShrinkRequest)) throw e;
      // The connection is gone: parked files whose rename was not confirmed go back too.
      const { results, returned } = await this.#unpark(true, true);
      throw new ShrinkRequest([...e.jobs, ...returned], results);
    }
    const { results } = await this.#unpark(false);
    return own ? [own, ...results] : results;
  }

  /** Sends the renames still riding and returns the results of the files parked. */
  async settle(): Promise<JobResult[]> {
    if (this.#parked.length === 0) return [];
    try {
      await this.#session?.flush();
    } catch { /* the riders are rejected: their files are tried again on their own */ }
    const { results } = await this.#unpark(true);
    return results;
  }

  /**
   * Results of the parked files whose rename replies are in (`all`: every parked file,
   * once its replies are in or lost); a refused or lost rename is tried again on its own.
   */
  async #unpark(
    all: boolean,
    handBack = false,
  ): Promise<{ results: JobResult[]; returned: UploadJob[] }> {
    if (all) await Promise.all(this.#parked.map((p) => p.settled));
    const results: JobResult[] = [];
    const returned: UploadJob[] = [];
    const done = this.#parked.filter((p) => p.outcome);
    this.#parked = this.#parked.filter((p) => !p.outcome);
    for (const p of done) {
      const outcome = p.outcome!;
      if (outcome.kind === "renamed") {
        results.push(await p.uploaded(p.before));
        continue;
      }
      // Replies that fit no rename: the session cannot be trusted to be in step.
      if (outcome.kind === "outOfStep") this.#drop();
      if (outcome.kind === "retry" && outcome.lost) this.#renameSent.add(p.job.id);
      if (handBack || returned.length > 0) {
        returned.push(p.again);
        continue;
      }
      try {
        results.push((await this.#upload(p.again, () => false))!);
      } catch (e) {
        if (!(e instanceof ShrinkRequest)) throw e;
        returned.push(...e.jobs);
      }
    }
    return { results, returned };
  }

  /** Uploads one file with resume and verification; never throws except ShrinkRequest. */
  async upload(job: UploadJob): Promise<JobResult> {
    const result = await this.#upload(job, () => false);
    return result!;
  }

  /** `upload`; with `park`, a verified file may be parked (then `undefined` is returned). */
  async #upload(job: UploadJob, park: () => boolean): Promise<JobResult | undefined> {
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
          if (have === undefined && await this.#renamedBefore(session, job)) {
            return result("uploaded", { verified: "size" });
          }
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
            const out = await session.upload({
              localPath: job.source,
              remotePath: target,
              offset,
              method,
              size: job.size,
              nextFollows: park,
            });
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
        if (s.atomic && park()) {
          // The time (once its command is known) and the rename ride with the next file.
          const setting = this.#times.setting ??= timeSettingFor(session.features);
          const line = knownTimeLine(setting, target, job.mtimeMs);
          const riding = line !== undefined || cannotSetTimes(setting)
            ? session.rideRename(target, job.destination, line)
            : undefined;
          if (riding) {
            const again = {
              ...job,
              fresh: false,
              carried: { attempts: budget.tries, bytesSent, resumedFrom },
            };
            const uploaded = async (reply?: Reply) => {
              const timeSet = reply
                ? (await setRemoteTime(setting, () => Promise.resolve(reply), target, job.mtimeMs))
                  .outcome
                : "unsupported";
              return result("uploaded", { verified, timeSet });
            };
            const secrets = [s.server.password];
            this.#parked.push(
              new Parked(job, riding, line !== undefined, uploaded, again, secrets),
            );
            return undefined;
          }
        }
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
        // The server closed the connection between commands (it answered the rename riding
        // ahead, then nothing of this file's STOR): an idle drop, however it was wrapped.
        // No data may have gone out (early data to a STOR is an upload under way).
        const idle = e instanceof PartialUploadError && e.cause instanceof ConnectionLost &&
          e.cause.idle && e.bytesSent === 0;
        const action = classifyError(idle ? e.cause : e);
        lastError = this.describe(e);
        if (action === "tooMany") {
          this.#drop();
          budget.refund();
          throw new ShrinkRequest([{
            ...job,
            carried: { attempts: budget.tries, bytesSent, resumedFrom },
          }]);
        }
        if (action === "full") return result("failed", { error: lastError, serverFull: true });
        if (action === "fatal") {
          if (s.atomic && dataTlsRefused(e)) await this.#dropTemp(target);
          return failed(lastError);
        }
        const pause = this.#afterFailure(budget, action);
        if (pause === undefined) break;
        this.#retrying(job.destination, budget, action, lastError, pause);
        if (pause > 0) await this.#sleep(pause);
      }
    }
    return failed(`gave up after ${budget.tries} attempts: ${lastError}`);
  }

  /**
   * A rename whose replies were lost with the connection: its temporary file had been
   * proven (SIZE) and is gone now, so when the destination has exactly that size the
   * rename happened. Asked once per such rename; nothing else removes a temporary file.
   */
  async #renamedBefore(session: FtpSession, job: UploadJob): Promise<boolean> {
    if (!this.#renameSent.delete(job.id)) return false;
    if ((await session.size(job.destination)) !== job.size) return false;
    checkLocal(job);
    return true;
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
      session.abilities.earlyData ??= this.#earlyData;
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

  /**
   * The temporary file of a transfer whose data connection the server refused (`522`:
   * vsftpd creates the file before the TLS handshake it then rejects): removed, so a
   * failure that no retry can mend leaves nothing behind. Best effort.
   */
  async #dropTemp(target: string): Promise<void> {
    try {
      await (await this.#live()).remove(target);
    } catch { /* left for a later run to resume or replace */ }
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
    if (session.abilities.earlyData !== undefined) {
      this.#earlyData = session.abilities.earlyData;
    }
  }

  #preferredMethod(): ResumeMethod {
    if (this.#restStore !== false) return "rest";
    if (this.#append !== false) return "appe";
    return "restart";
  }
}

/** The server refused the TLS of a transfer's data connection (`522`): fatal, see `#dropTemp`. */
function dataTlsRefused(e: unknown): boolean {
  return e instanceof PartialUploadError && e.code === 522;
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
  // Only server text can carry the password; a local error names the tool's own paths.
  return safeText(text, carriesServerText(e) ? secrets : []);
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
