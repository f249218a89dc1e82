/**
 * Proving a file on the server: its size must be the local size, and with
 * `verify: "hash"` its hash (the server's XSHA256, XSHA1 or XMD5) must be the
 * local file's. A hash that differs means the bytes are wrong: the next try
 * starts from 0.
 *
 * @module
 */

import type { Session } from "../ftp/session.ts";
import { VerifyError } from "./retry.ts";

const HASH_ALGORITHMS: Record<string, string> = {
  XSHA256: "sha256",
  XSHA1: "sha1",
  XMD5: "md5",
};

/**
 * Throws VerifyError unless the server's size `final` is the local `size`. The
 * server said the transfer was complete, yet its file is not what it should be
 * (a REST it ignored, a stale session writing): its bytes are no prefix to
 * continue from, so the next try sends the file from 0.
 */
export function checkSize(final: number | undefined, size: number): void {
  if (final !== size) {
    throw new VerifyError(
      `size check failed: server has ${final ?? "no file"}, local file has ${size} bytes`,
      true,
    );
  }
}

/**
 * Compares the server's hash of `remote` with the local file's: true when
 * they match, false when the server offers no usable hash command; throws
 * VerifyError (restart) when they differ.
 */
export async function verifyHash(
  session: Session,
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
