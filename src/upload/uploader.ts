/**
 * Uploads files over one connection (`connection.ts`): every try asks the
 * server what it has, sends only the rest, re-checks the local file
 * (`local_file.ts`), verifies the size or hash (`verify.ts`), gives the file
 * the local modification time (`finish_upload.ts`) and (atomic mode) renames
 * the temporary file onto the real name. The tries of a file run in the one
 * retry loop (`retry.ts`), which also says what an error means. Used by
 * `workers/upload_worker.ts`; free of worker plumbing so tests can drive it.
 *
 * Files on one connection are pipelined (`pipeline`): the SIZE that proves a
 * file goes out with the next file's EPSV (both in the STOR's own write where
 * the server holds such commands: `ftp/trailing.ts`), and its rename goes out
 * in front of the next file's STOR (`pending_rename.ts`), so a file costs about
 * two round trips instead of six. Nothing is sent while a transfer is open.
 *
 * @module
 */

import { PartialUploadError, ResumeRefused } from "../ftp/errors.ts";
import type { ResumeMethod, Session as FtpSession } from "../ftp/session.ts";
import type { Reply } from "../ftp/reply.ts";
import { cannotSetTimes, knownTimeLine, setRemoteTime, timeSettingFor } from "../ftp/set_mtime.ts";
import {
  Failure,
  type JobResult,
  ShrinkRequest,
  type TransferProgress,
  type UploadJob,
  type UploadSettings,
} from "./job.ts";
import {
  checkSendable,
  type ErrorAction,
  GaveUp,
  RetryBudget,
  retryLoop,
  VerifyError,
} from "./retry.ts";
import { classifyUpload, dataTlsRefused } from "./classify.ts";
import { Connection, type ReconnectListener, type RetryListener } from "./connection.ts";
import { checkLocal } from "./local_file.ts";
import { checkSize, verifyHash } from "./verify.ts";
import { tempPathFor } from "./temp_name.ts";
import { PendingRename } from "./pending_rename.ts";
import { PendingRenames } from "./pipeline.ts";
import { createFolders, type FolderOutcome } from "./folders.ts";
import { finishUpload, type TimeHolder } from "./finish_upload.ts";

export type { ReconnectListener, RetryListener };
export { ShrinkRequest };

/** Actions after which the connection is not used again. */
const NEEDS_NEW: ReadonlySet<ErrorAction> = new Set([
  "reconnect",
  "reconnectNow",
  "unreachable",
  "tooMany",
]);

/** One file's progress over its tries. */
interface FileState {
  job: UploadJob;
  target: string;
  budget: RetryBudget;
  started: number;
  bytesSent: number;
  resumedFrom: number[];
  /** Ask the server what it has before sending (a leftover or a try before). */
  askServer: boolean;
  method: ResumeMethod;
  /** The server's bytes were wrong (hash): send from 0. */
  restart: boolean;
}

export class Uploader {
  readonly #conn: Connection;
  /** Verified files whose rename goes out in front of a later command (`pipeline.ts`). */
  readonly #pendingRenames: PendingRenames;
  /** Jobs whose rename went out (verified temporary file) but whose replies were lost. */
  #renameSent = new Set<number>();
  #times: TimeHolder = {};
  /** The transfer under way, for `progress()`. */
  #current?: { id: number; before: number; start: number; session: FtpSession };
  /** Counts the steps done (a command answered, a file finished): the worker's sign of life. */
  steps = 0;

  constructor(
    readonly settings: UploadSettings,
    onReconnect: ReconnectListener = () => {},
    onRetry: RetryListener = () => {},
  ) {
    this.#conn = new Connection(settings, onReconnect, onRetry);
    this.#pendingRenames = new PendingRenames(
      async (job) => (await this.#upload(job, () => false))!,
      (p) => {
        // Replies that fit no rename: the session cannot be trusted to be in step.
        if (p.outcome?.kind === "outOfStep") this.#conn.drop();
        if (p.outcome?.kind === "retry" && p.outcome.lost) this.#renameSent.add(p.job.id);
      },
    );
  }

  /** Where the transfer under way stands (undefined between transfers). */
  progress(): TransferProgress | undefined {
    const c = this.#current;
    if (!c) return undefined;
    const sending = c.session.sending;
    return { id: c.id, bytesSent: c.before + sending, position: c.start + sending };
  }

  /** Logs in (once); throws ConnectError. */
  async connect(): Promise<void> {
    await this.#conn.live();
  }

  /** The logged-in session (logging in again after a loss): the skip check rides on it. */
  live(): Promise<FtpSession> {
    return this.#conn.live();
  }

  /** The pause of the first connect's retry loop (an interrupt cuts it short). */
  get pause() {
    return this.#conn.pause;
  }

  /** Stops the current transfer; the remote partial file stays resumable. */
  interrupt(): void {
    this.#conn.interrupt();
  }

  get interrupted(): boolean {
    return this.#conn.interrupted;
  }

  close(): Promise<void> {
    return this.#conn.close();
  }

  /** One line for the log and the report, never with the password or control characters. */
  describe(e: unknown): string {
    return this.#conn.describe(e);
  }

  /** Creates folders in order (parents first); tells which it created and which failed. */
  mkdirs(dirs: string[]): Promise<FolderOutcome> {
    return createFolders(this.#conn, dirs, () => this.steps++);
  }

  /**
   * Uploads `job` like `upload`; with `more()` (another file follows on this connection) its
   * rename may go out with the next file's first command, and its result then comes
   * from a later call or from `settle`. Returns the results finished meanwhile, in no
   * particular order. Never throws except ShrinkRequest (which hands back every file not
   * finished, those waiting for their rename included).
   */
  async pipeline(job: UploadJob, more: () => boolean): Promise<JobResult[]> {
    let own: JobResult | undefined;
    try {
      own = await this.#upload(job, more);
    } catch (e) {
      if (!(e instanceof ShrinkRequest)) throw e;
      // The connection is gone: files whose rename was not confirmed go back too.
      const { results, returned } = await this.#pendingRenames.handBack(
        await this.#pendingRenames.settled(),
      );
      const jobs = [...e.jobs, ...returned];
      throw new ShrinkRequest(jobs, [...e.results, ...results], e.reason, e.message);
    }
    return this.#pendingRenames.conclude(this.#pendingRenames.done(), own ? [own] : []);
  }

  /** Sends the renames still queued and returns the results of the files waiting for them. */
  async settle(): Promise<JobResult[]> {
    if (this.#pendingRenames.size === 0) return [];
    try {
      await this.#conn.session?.flush();
    } catch { /* the queued renames are rejected: their files are tried again on their own */ }
    return this.#pendingRenames.conclude(await this.#pendingRenames.settled(), []);
  }

  /** Uploads one file with resume and verification; never throws except ShrinkRequest. */
  async upload(job: UploadJob): Promise<JobResult> {
    const result = await this.#upload(job, () => false);
    return result!;
  }

  /**
   * `upload`; with `more()`, a verified file's rename may wait for the next file (then `undefined` is returned).
   * The tries run in `retryLoop`; what it hands back decides the file.
   */
  async #upload(job: UploadJob, more: () => boolean): Promise<JobResult | undefined> {
    const s = this.settings;
    const st: FileState = {
      job,
      target: s.atomic ? tempPathFor(job.destination, job.size, job.mtimeMs) : job.destination,
      budget: new RetryBudget(s, this.#conn.outage, job.carried?.attempts ?? 0),
      started: performance.now(),
      bytesSent: job.carried?.bytesSent ?? 0,
      resumedFrom: [...(job.carried?.resumedFrom ?? [])],
      // Atomic: a leftover temporary file of the same content is worth resuming.
      askServer: (s.atomic && !job.fresh) || (job.carried?.attempts ?? 0) > 0,
      method: this.#conn.preferredMethod(),
      restart: false,
    };
    try {
      // A name no FTP command can carry fails now, once: no try can send it.
      checkSendable(job.destination);
      checkSendable(st.target);
      return await retryLoop(() => this.#tryResumable(st, more), st.budget, this.#conn.pause, {
        classify: classifyUpload,
        stopped: () => this.interrupted,
        describe: (e) => this.describe(e),
        retrying: (e, action, attempt, ms) =>
          this.#conn.retrying(job.destination, action, attempt, this.describe(e), ms),
      });
    } catch (e) {
      if (this.interrupted) {
        return result(st, "failed", { error: "interrupted", failure: Failure.Interrupted });
      }
      // A connection that failed at the transport level is not used for the next file.
      if (NEEDS_NEW.has(classifyUpload(e instanceof GaveUp ? e.last : e))) this.#conn.drop();
      if (e instanceof GaveUp && classifyUpload(e.last) === "unreachable") {
        // The server has been unreachable past the outage window: not this file's failure.
        // The connection ends and hands its files back; the pool decides what comes next.
        const carried = {
          attempts: st.budget.tries,
          bytesSent: st.bytesSent,
          resumedFrom: st.resumedFrom,
        };
        throw new ShrinkRequest([{ ...job, carried }], [], "unreachable", this.describe(e.last));
      }
      if (e instanceof GaveUp) return result(st, "failed", { error: e.message });
      const error = this.describe(e);
      const action = classifyUpload(e);
      if (action === "tooMany") {
        st.budget.refund();
        const carried = {
          attempts: st.budget.tries,
          bytesSent: st.bytesSent,
          resumedFrom: st.resumedFrom,
        };
        throw new ShrinkRequest([{ ...job, carried }]);
      }
      if (action === "full") return result(st, "failed", { error, serverFull: true });
      if (this.settings.atomic && dataTlsRefused(e)) await this.#dropTemp(st.target);
      return result(st, "failed", { error });
    }
  }

  /** One try; a resume method the server refused is no try: the next method goes at once. */
  async #tryResumable(st: FileState, more: () => boolean): Promise<JobResult | undefined> {
    for (;;) {
      try {
        return await this.#try(st, more);
      } catch (e) {
        if (e instanceof PartialUploadError) {
          st.bytesSent += e.bytesSent;
          if (e.offset > 0) st.resumedFrom.push(e.offset);
        }
        if (e instanceof VerifyError && e.restart) st.restart = true;
        if (!(e instanceof ResumeRefused)) throw e;
        st.method = this.#conn.preferredMethod();
      }
    }
  }

  /** One try of a file: what the server has, the rest sent, proven, finished or waiting for its rename. */
  async #try(st: FileState, more: () => boolean): Promise<JobResult | undefined> {
    const { job, target } = st;
    const session = await this.#conn.live();
    this.steps++;
    let offset = 0;
    let have: number | undefined;
    const asked = st.askServer && !st.restart;
    if (asked) {
      have = await session.size(target);
      if (have !== undefined && have <= job.size) offset = have;
      if (have === undefined && await this.#renamedBefore(session, job)) {
        return result(st, "uploaded", { verified: "size" });
      }
    }
    // Continuing a file needs the same local content as before.
    if (offset > 0) checkLocal(job);
    st.askServer = true;
    st.restart = false;
    let final: number | undefined;
    let known = false;
    if (have === undefined || have !== job.size) {
      if (offset === 0) st.method = "rest";
      const start = st.method === "restart" ? 0 : offset;
      this.#current = { id: job.id, before: st.bytesSent, start, session };
      try {
        const out = await session.upload({
          localPath: job.source,
          remotePath: target,
          offset,
          method: st.method,
          size: job.size,
          nextFollows: more,
          // Nothing there: the server said so, or the folder is new and this is the first try.
          absent: asked ? have === undefined : !st.restart && !!job.fresh,
        });
        st.bytesSent += out.bytesSent;
        if (out.offset > 0) st.resumedFrom.push(out.offset);
        if (out.sizeAfter) [final, known] = [out.sizeAfter.size, true];
      } finally {
        this.#current = undefined;
        this.#conn.learn(session);
      }
    }
    // Every try, after the last byte was read: the bytes sent are one version of the file.
    checkLocal(job);
    this.steps++;
    checkSize(known ? final : await session.size(target), job.size);
    const verified =
      this.settings.verify === "hash" && await verifyHash(session, target, job.source)
        ? "hash"
        : "size";
    if (this.settings.atomic && more() && this.#deferRename(session, st, verified)) {
      return undefined;
    }
    const destination = this.settings.atomic ? job.destination : undefined;
    const timeSet = await finishUpload(session, this.#times, target, destination, job.mtimeMs);
    return result(st, "uploaded", { verified, timeSet });
  }

  /**
   * Defers a verified file's rename: its time (once its command is known) and its rename go
   * out with the next file's first command. False when they cannot (the time command unknown).
   */
  #deferRename(session: FtpSession, st: FileState, verified: "size" | "hash"): boolean {
    const { job, target } = st;
    const setting = this.#times.setting ??= timeSettingFor(session.features);
    const line = knownTimeLine(setting, target, job.mtimeMs);
    const renameReplies = line !== undefined || cannotSetTimes(setting)
      ? session.renameWithNext(target, job.destination, line)
      : undefined;
    if (!renameReplies) return false;
    const carried = {
      attempts: st.budget.tries,
      bytesSent: st.bytesSent,
      resumedFrom: st.resumedFrom,
    };
    const again = { ...job, fresh: false, carried };
    const uploaded = async (reply?: Reply) => {
      const timeSet = reply
        ? (await setRemoteTime(setting, () => Promise.resolve(reply), target, job.mtimeMs)).outcome
        : "unsupported";
      return result(st, "uploaded", { verified, timeSet });
    };
    const secrets = [this.settings.server.password];
    this.#pendingRenames.add(
      new PendingRename(job, renameReplies, line !== undefined, uploaded, again, secrets),
    );
    return true;
  }

  /**
   * The temporary file of a transfer whose data connection the server refused (`522`:
   * vsftpd creates the file before the TLS handshake it then rejects): removed, so a
   * failure that no retry can mend leaves nothing behind. Best effort.
   */
  async #dropTemp(target: string): Promise<void> {
    try {
      await (await this.#conn.live()).remove(target);
    } catch { /* left for a later run to resume or replace */ }
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
}

/** The result of `st`'s file now. */
function result(
  st: FileState,
  status: JobResult["status"],
  extra: Partial<JobResult> = {},
): JobResult {
  return {
    id: st.job.id,
    status,
    bytesSent: st.bytesSent,
    attempts: st.budget.tries,
    resumedFrom: st.resumedFrom,
    durationMs: Math.round(performance.now() - st.started),
    ...extra,
  };
}
