/**
 * The folder phase on one connection: destination folders created parents
 * first, pipelined a chunk at a time, a folder refused there tried again on
 * its own in the retry loop (`retry.ts`). Refused as one connection too many:
 * ShrinkRequest, as for a file.
 *
 * @module
 */

import type { Session } from "../ftp/session.ts";
import type { Connection } from "./connection.ts";
import { ShrinkRequest } from "./job.ts";
import { checkSendable, classifyError, GaveUp, RetryBudget, retryLoop } from "./retry.ts";

/** Folders created per pipelined write. */
const MKD_CHUNK = 100;

/** Which folders this run created and which could not be created (with why). */
export interface FolderOutcome {
  created: string[];
  failed: { dir: string; error: string }[];
}

/** Creates `dirs` in order (parents first) over `conn`; `step` is told of each step done. */
export async function createFolders(
  conn: Connection,
  dirs: string[],
  step: () => void,
): Promise<FolderOutcome> {
  const created: string[] = [];
  const failed: { dir: string; error: string }[] = [];
  const run = <T>(path: string, op: (s: Session) => Promise<T>) =>
    withRetries(conn, path, async (s) => {
      const out = await op(s);
      step();
      return out;
    });
  // Pipelined, a round trip per chunk instead of per folder; a folder refused there (or
  // a chunk whose connection was lost) goes the one-by-one way below, retries and all.
  const alone: string[] = [];
  for (let i = 0; i < dirs.length && !conn.interrupted; i += MKD_CHUNK) {
    const chunk = dirs.slice(i, i + MKD_CHUNK);
    try {
      chunk.forEach(checkSendable);
      const out = await run(chunk[0], (s) => s.mkdirAll(chunk));
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
    if (conn.interrupted) break;
    try {
      checkSendable(dir);
      if (await run(dir, (s) => s.mkdir(dir))) created.push(dir);
    } catch (e) {
      if (e instanceof ShrinkRequest) throw e;
      failed.push({ dir, error: conn.describe(e instanceof GaveUp ? e.last : e) });
    }
  }
  return { created, failed };
}

/** Runs `op` on a live session in the retry loop; ShrinkRequest when refused as too many. */
async function withRetries<T>(
  conn: Connection,
  path: string,
  op: (s: Session) => Promise<T>,
): Promise<T> {
  const budget = new RetryBudget(conn.settings, conn.outage);
  try {
    return await retryLoop(async () => op(await conn.live()), budget, conn.pause, {
      stopped: () => conn.interrupted,
      describe: (e) => conn.describe(e),
      retrying: (e, action, attempt, ms) =>
        conn.retrying(path, action, attempt, conn.describe(e), ms),
    });
  } catch (e) {
    if (classifyError(e) === "tooMany") {
      conn.drop();
      throw new ShrinkRequest();
    }
    if (e instanceof GaveUp && classifyError(e.last) === "unreachable") {
      throw new ShrinkRequest([], [], "unreachable", conn.describe(e.last));
    }
    throw e;
  }
}
