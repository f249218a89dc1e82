/**
 * Uploads files over one connection and owns the reconnect loop: every
 * attempt asks the server what it has, sends only the rest, verifies the size
 * and (atomic mode) renames the temporary file onto the real name. Used by
 * `workers/upload_worker.ts`; free of worker plumbing so tests can drive it.
 *
 * @module
 */

import { openSession } from "../ftp/open_session.ts";
import { FTPError, PartialUploadError, ResumeRefused } from "../ftp/errors.ts";
import type { ResumeMethod, Session as FtpSession } from "../ftp/session.ts";
import type { ConnectFailure, JobResult, UploadJob, UploadSettings } from "./job.ts";
import { backoffDelay, classifyError, type ErrorAction, LocalFileError } from "./retry.ts";
import { tempPathFor } from "./temp_name.ts";

/** Login failed; `kind` tells the coordinator whether to retry, shrink or stop. */
export class ConnectError extends Error {
  constructor(readonly kind: ConnectFailure, message: string) {
    super(message);
    this.name = "ConnectError";
  }
}

/** The server wants fewer connections: hand `job` (with its progress so far) back. */
export class ShrinkRequest extends Error {
  constructor(readonly job?: UploadJob) {
    super("server refused another connection (too many)");
    this.name = "ShrinkRequest";
  }
}

/** The server's copy is wrong; `restart` when its bytes (not just its length) differ. */
class VerifyError extends Error {
  constructor(message: string, readonly restart = false) {
    super(message);
    this.name = "VerifyError";
  }
}

/** Called for each re-login after a lost connection. */
export type ReconnectListener = () => void;

export class Uploader {
  #session?: FtpSession;
  #interrupted = false;
  #connectedOnce = false;
  // Learned per server and kept across reconnects for the rest of the run.
  #restStore?: boolean;
  #append?: boolean;

  constructor(
    readonly settings: UploadSettings,
    readonly onReconnect: ReconnectListener = () => {},
  ) {}

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
        if (await this.#withRetries((s) => s.mkdir(dir))) created.push(dir);
      } catch (e) {
        if (e instanceof ShrinkRequest) throw e;
        failed.push({ dir, error: describe(e) });
      }
    }
    return { created, failed };
  }

  /** Uploads one file with resume and verification; never throws except ShrinkRequest. */
  async upload(job: UploadJob): Promise<JobResult> {
    const started = performance.now();
    const s = this.settings;
    const target = s.atomic ? tempPathFor(job.destination, job.size, job.mtimeMs) : job.destination;
    let attempts = job.carried?.attempts ?? 0;
    let bytesSent = job.carried?.bytesSent ?? 0;
    const resumedFrom = [...(job.carried?.resumedFrom ?? [])];
    // Atomic: a leftover temporary file of the same content is worth resuming.
    let askServer = (s.atomic && !job.fresh) || attempts > 0;
    let method: ResumeMethod = this.#preferredMethod();
    let lastError = "";
    let restart = false;
    const result = (status: JobResult["status"], error?: string): JobResult => ({
      id: job.id,
      status,
      bytesSent,
      attempts,
      resumedFrom,
      durationMs: Math.round(performance.now() - started),
      ...(error ? { error } : {}),
    });

    while (attempts <= s.retries) {
      if (this.#interrupted) return result("failed", "interrupted");
      attempts++;
      try {
        const session = await this.#live();
        let offset = 0;
        let have: number | undefined;
        if (askServer && !restart) {
          have = await session.size(target);
          if (have !== undefined && have <= job.size) offset = have;
        }
        // Continuing a file needs the same local content as before; a first full upload
        // checks the byte count it read instead (no extra stat on the hot path).
        if (attempts > 1 || offset > 0) await checkLocal(job);
        askServer = true;
        restart = false;
        let final: number | undefined;
        let known = false;
        if (have === undefined || have !== job.size) {
          if (offset === 0) method = "rest";
          try {
            const out = await session.upload(job.source, target, offset, method, job.size);
            bytesSent += out.bytesSent;
            if (out.offset > 0) resumedFrom.push(out.offset);
            if (out.sizeAfter) [final, known] = [out.sizeAfter.size, true];
          } catch (e) {
            if (e instanceof ResumeRefused) {
              this.#learn(session);
              method = this.#preferredMethod();
              attempts--; // a refused method sent nothing: not an attempt
              continue;
            }
            throw e;
          } finally {
            this.#learn(session);
          }
        }
        if (!known) final = await session.size(target);
        if (final !== job.size) {
          throw new VerifyError(
            `size check failed: server has ${final ?? "no file"}, local file has ${job.size} bytes`,
          );
        }
        if (s.verify === "hash") await verifyHash(session, target, job.source);
        if (s.atomic) await session.rename(target, job.destination);
        return result("uploaded");
      } catch (e) {
        if (e instanceof PartialUploadError) {
          bytesSent += e.bytesSent;
          if (e.offset > 0) resumedFrom.push(e.offset);
        }
        if (e instanceof VerifyError && e.restart) restart = true;
        if (this.#interrupted) return result("failed", "interrupted");
        const action = actionFor(e);
        lastError = describe(e);
        if (action === "tooMany") {
          this.#drop();
          throw new ShrinkRequest({
            ...job,
            carried: { attempts: attempts - 1, bytesSent, resumedFrom },
          });
        }
        if (action === "fatal") return result("failed", lastError);
        if (action === "reconnect") this.#drop();
        if (attempts > s.retries) break;
        await this.#sleep(backoffDelay(attempts, s.backoffBaseMs, s.backoffMaxMs));
      }
    }
    return result(
      "failed",
      `gave up after ${attempts} attempts: ${lastError}`,
    );
  }

  /** Runs `op` on a live session, reconnecting on lost connections, within the retry budget. */
  async #withRetries<T>(op: (s: FtpSession) => Promise<T>): Promise<T> {
    for (let attempt = 1;; attempt++) {
      try {
        return await op(await this.#live());
      } catch (e) {
        const action = actionFor(e);
        if (action === "tooMany") {
          this.#drop();
          throw new ShrinkRequest();
        }
        if (
          action === "fatal" || attempt > this.settings.retries ||
          this.#interrupted
        ) throw e;
        if (action === "reconnect") this.#drop();
        await this.#sleep(
          backoffDelay(
            attempt,
            this.settings.backoffBaseMs,
            this.settings.backoffMaxMs,
          ),
        );
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
      throw toConnectError(e);
    }
    if (this.#connectedOnce) this.onReconnect();
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

function actionFor(e: unknown): ErrorAction {
  if (e instanceof ConnectError) {
    if (e.kind === "tooMany") return "tooMany";
    return e.kind === "auth" ? "fatal" : "reconnect";
  }
  if (e instanceof VerifyError) return "retry";
  return classifyError(e as Error & { code?: number });
}

/** Turns a failed login into the coordinator's three cases. */
export function toConnectError(e: unknown): ConnectError {
  if (e instanceof ConnectError) return e;
  const msg = describe(e);
  const action = classifyError(e as Error & { code?: number });
  if (action === "tooMany") return new ConnectError("tooMany", msg);
  if (e instanceof FTPError && (e.code === 530 || e.code === 331)) {
    return new ConnectError("auth", msg);
  }
  return new ConnectError("unreachable", msg);
}

/** One line, no stack; basic-ftp messages never contain the password. */
export function describe(e: unknown): string {
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code;
    const text = e.message.replace(/\s+/g, " ").trim();
    return typeof code === "number" && !text.startsWith(String(code)) ? `${code} ${text}` : text;
  }
  return String(e);
}

async function checkLocal(job: UploadJob): Promise<void> {
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(job.source);
  } catch (e) {
    throw new LocalFileError(`local file unreadable: ${describe(e)}`);
  }
  if (
    info.size !== job.size ||
    (info.mtime && Math.floor(info.mtime.getTime()) !== Math.floor(job.mtimeMs))
  ) {
    throw new LocalFileError(
      "local file changed during the run (size or mtime differs); run again to upload the new content",
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
): Promise<void> {
  const algo = HASH_ALGORITHMS[session.abilities.hash ?? ""];
  if (!algo) return; // no usable hash command: the size check stands alone
  const theirs = await session.hash(remote);
  if (!theirs) return;
  // Loaded on first use: most runs never hash, and workers start faster without it.
  const { createHash } = await import("node:crypto");
  const { createReadStream } = await import("node:fs");
  const h = createHash(algo);
  for await (const chunk of createReadStream(local)) h.update(chunk);
  const ours = h.digest("hex");
  if (ours !== theirs) {
    throw new VerifyError(`hash check failed: server ${theirs}, local ${ours}`, true);
  }
}
