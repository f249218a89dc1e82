/**
 * `--lock FILE`: one run at a time. An OS file lock (`flock`, via
 * `Deno.FsFile.tryLock`) is held for the whole run, so a run that is killed
 * never leaves a stale lock: the kernel releases it with the process. The
 * file keeps the holder's pid and start time, for the message a second run
 * prints.
 *
 * @example
 * ```ts
 * import { acquireLock } from "./lock.ts";
 * const lock = await acquireLock("/var/lock/ftpbatch-nightly.lock");
 * try {
 *   // ... the run ...
 * } finally {
 *   lock.release();
 * }
 * ```
 *
 * @module
 */

/** Another run holds the lock (exit 4). The message names the holder. */
export class LockHeldError extends Error {
  constructor(readonly path: string, readonly holder: string) {
    super(
      `another ftpbatch run holds the lock ${path}${holder ? ` (${holder})` : ""}; not started`,
    );
    this.name = "LockHeldError";
  }
}

/** The lock file cannot be used at all (a folder, no permission): a usage error. */
export class LockFileError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`cannot use lock file ${path}: ${reason}`);
    this.name = "LockFileError";
  }
}

/** A held lock; `release()` is also what the process ending does. */
export interface HeldLock {
  path: string;
  release(): void;
}

/** Takes the lock at `path` without waiting, or throws LockHeldError naming the holder. */
export async function acquireLock(path: string, now: Date = new Date()): Promise<HeldLock> {
  let file: Deno.FsFile;
  try {
    // No truncate: the holder's details must survive a second run's open.
    file = await Deno.open(path, { read: true, write: true, create: true });
  } catch (e) {
    throw new LockFileError(path, e instanceof Error ? e.message : String(e));
  }
  let got: boolean;
  try {
    if (!(await file.stat()).isFile) throw new Error("not a regular file");
    got = await file.tryLock(true);
  } catch (e) {
    file.close();
    throw new LockFileError(path, e instanceof Error ? e.message : String(e));
  }
  if (!got) {
    const holder = await readHolder(file);
    file.close();
    throw new LockHeldError(path, holder);
  }
  // Emptied below: only a file that is empty or holds a lock line may be (never a file of data).
  if (!(await isLockFile(file))) {
    file.close();
    throw new LockFileError(
      path,
      "the file exists and is not an ftpbatch lock file; it was left as it is (give a path of its own)",
    );
  }
  await file.truncate(0);
  await file.seek(0, Deno.SeekMode.Start); // reading the old line moved it
  const info = `pid ${Deno.pid}, started ${now.toISOString()}\n`;
  await file.write(new TextEncoder().encode(info));
  return {
    path,
    release() {
      try {
        file.close(); // closing the last handle releases the flock
      } catch { /* already closed */ }
    },
  };
}

/** Empty, or one holder line as {@linkcode acquireLock} writes it. */
async function isLockFile(file: Deno.FsFile): Promise<boolean> {
  const size = (await file.stat()).size;
  if (size === 0) return true;
  if (size > 256) return false;
  return (await readHolder(file)) !== "";
}

/** The holder's line, or "" when the file is empty (the holder is still writing it). */
async function readHolder(file: Deno.FsFile): Promise<string> {
  try {
    const buf = new Uint8Array(256);
    await file.seek(0, Deno.SeekMode.Start);
    const n = await file.read(buf);
    const text = new TextDecoder().decode(buf.subarray(0, n ?? 0)).split("\n")[0];
    // The file is ours, but show nothing a terminal would act on.
    return /^pid \d+, started [0-9T:.Z-]+$/.test(text) ? text : "";
  } catch {
    return "";
  }
}
