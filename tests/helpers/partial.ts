/**
 * Watching a partial upload on the server's disk, for tests that act
 * mid-transfer (SIGTERM, stopping the server).
 *
 * @module
 */

import { join } from "node:path";
import { listTree } from "./dataset.ts";

/** Polls `probe` until it gives a value; fails after `ms`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  ms = 20000,
): Promise<T> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Size of the largest temporary file under `root` once it holds at least `min` bytes. */
export async function partialSize(root: string, min = 1): Promise<number | undefined> {
  let size = -1;
  for (const tmp of (await listTree(root)).filter((p) => p.includes(".ftpbatch-"))) {
    size = Math.max(size, (await Deno.stat(join(root, tmp))).size);
  }
  return size >= min ? size : undefined;
}

/**
 * The temporary file's size once it stops growing: a server still drains what
 * was in its socket buffers after the client is gone.
 */
export async function settledPartialSize(root: string): Promise<number | undefined> {
  let size = await partialSize(root);
  for (let before = -1; size !== before;) {
    before = size ?? -1;
    await new Promise((r) => setTimeout(r, 700));
    size = await partialSize(root);
  }
  return size;
}

/**
 * Stops `server` once a temporary file under its root holds `min` bytes, keeps it down for
 * `downMs`, and starts it again on the same port: a server restarted mid-file. Returns the
 * temporary file's size when the server stopped (where a resume must start).
 */
export async function restartMidFile(
  server: { root: string; stop(): Promise<void>; start(): Promise<void> },
  min: number,
  downMs = 1500,
): Promise<number> {
  await waitFor("a partial upload", () => partialSize(server.root, min));
  await server.stop();
  const cut = (await partialSize(server.root))!;
  await new Promise((r) => setTimeout(r, downMs));
  await server.start();
  return cut;
}
