/**
 * The skip rules for files walked from folder sources: each chunk is checked
 * against the server (its folders listed, as the skip phase does for listed
 * files) before its files are queued, so a nightly mirror of an unchanged
 * folder sends nothing while the walk still streams.
 *
 * @module
 */

import { checkRemote, type RemoteCheckOptions } from "./remote_check.ts";
import type { Screen } from "./folder_feed.ts";

/**
 * A screen over one connection per chunk; `notes` collects what the checks
 * say once for the run. A login refused sends the chunk anyway: the pool
 * meets the same refusal and reports it.
 */
export function skipScreen(
  o: Omit<RemoteCheckOptions, "jobs" | "connections">,
  notes: string[],
): Screen {
  return async (jobs) => {
    const check = await checkRemote({ ...o, jobs, connections: 1 });
    for (const note of check.notes) if (!notes.includes(note)) notes.push(note);
    return check.loginRefused ? { send: jobs, skipped: [] } : check;
  };
}
