/**
 * Local files for upload tests in `tests/ftp/`: a file of a recognisable
 * pattern, and `put`, the whole file (or a resume) through `Session.upload`.
 *
 * @module
 */

import { join } from "node:path";
import type { ResumeMethod, Session, UploadOutcome } from "../../src/ftp/session.ts";
import { withTempDir } from "../helpers/kit.ts";

/** A local file of `size` bytes with a recognisable pattern; removed after `fn`. */
export function withFile(
  size: number,
  fn: (path: string, bytes: Uint8Array) => Promise<void>,
): Promise<void> {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + (i >> 8)) & 255;
  return withTempDir("ftpbatch-ftp-", async (dir) => {
    const path = join(dir, "source.bin");
    await Deno.writeFile(path, bytes);
    await fn(path, bytes);
  });
}

/** Uploads `size` bytes of `localPath` to `remotePath`: all of it, or as `resume` says. */
export function put(
  session: Session,
  localPath: string,
  remotePath: string,
  size: number,
  resume: { offset: number; method: ResumeMethod } = { offset: 0, method: "rest" },
): Promise<UploadOutcome> {
  return session.upload({ localPath, remotePath, size, ...resume });
}
