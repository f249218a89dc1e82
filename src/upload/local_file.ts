/**
 * The local side of an upload: the file must still be what the run saw when
 * it planned it, before a transfer continues and after the last byte was read.
 *
 * @module
 */

import { LocalFileError } from "../ftp/errors.ts";
import { describe } from "./connection.ts";
import type { UploadJob } from "./job.ts";

/**
 * The local file must be what the run saw at the start: same size and mtime,
 * and same inode and change time where the platform gives them (a rewrite in
 * place with the same size and a restored mtime still changes ctime; Deno
 * gives ctime to the second, so only a change in a later second shows).
 */
export function checkLocal(job: UploadJob): void {
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
