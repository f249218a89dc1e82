/**
 * What is already on the server, read over one connection for the skip
 * decision (`plan/skip.ts`): a destination folder's listing, narrowed to the
 * names the run wants from it, falling back to one MLST or SIZE+MDTM per file
 * where the folder cannot be listed; the time probe, which learns before any
 * upload whether the server can set modification times; and setting an
 * uploaded file's time, so the next run can compare.
 *
 * Every operation goes through `run`, the uploader's reconnect-and-retry loop,
 * so a dropped connection costs a reconnect, not a wrong decision.
 *
 * @module
 */

import { posix } from "node:path";
import { FTPError, ProtocolError } from "../ftp/errors.ts";
import type { RemoteEntry } from "../ftp/listing.ts";
import type { Session } from "../ftp/session.ts";
import { cannotSetTimes, type TimeSetting, timeSettingFor } from "../ftp/set_mtime.ts";
import { tempPathFor } from "./temp_name.ts";

/** Runs `op` on a live session, reconnecting and retrying as the uploader does. */
export type SessionRunner = <T>(op: (s: Session) => Promise<T>) => Promise<T>;

/** A folder to read and the names wanted from it. */
export interface FolderRequest {
  dir: string;
  names: string[];
}

/** The wanted names that are there, with what the server says of them. */
export interface FolderState {
  dir: string;
  /** Only names that were asked for and are there. */
  entries: [string, RemoteEntry][];
  /**
   * `"listing"`: one MLSD/LIST; `"per file"`: the folder could not be listed;
   * `"absent"`: the folder is not there (so none of the names is).
   */
  how: "listing" | "per file" | "absent";
  /** Why the folder could not be listed (then `how` is `"per file"`). */
  listError?: string;
}

/**
 * Reads one folder. A folder that cannot be entered is absent. A listing the
 * server refuses (FTPError) or that cannot be read (ProtocolError: too big,
 * unknown format) falls back to asking per file; any other error (the retries
 * ran out) is thrown.
 */
export async function readFolder(run: SessionRunner, req: FolderRequest): Promise<FolderState> {
  let listing;
  try {
    listing = await run((s) => s.list(req.dir));
  } catch (e) {
    if (!(e instanceof FTPError || e instanceof ProtocolError)) throw e;
    const entries: [string, RemoteEntry][] = [];
    for (const name of req.names) {
      const entry = await run((s) => s.stat(posix.join(req.dir, name)));
      if (entry) entries.push([name, entry]);
    }
    return { dir: req.dir, entries, how: "per file", listError: e.message };
  }
  if (!listing) return { dir: req.dir, entries: [], how: "absent" };
  const entries: [string, RemoteEntry][] = [];
  for (const name of req.names) {
    const entry = listing.get(name);
    if (entry) entries.push([name, entry]);
  }
  return { dir: req.dir, entries, how: "listing" };
}

/** The time the probe file is given: far from any real upload time. */
const PROBE_TIME = Date.UTC(2001, 1, 3, 4, 5, 6);

/**
 * Whether the server can set modification times, learned on a probe: an
 * empty file with a temporary name (`.ftpbatch-time-probe.ftpbatch-….part`,
 * a shape no destination may have) is stored in `dir`, given a time with each
 * command `setting` still allows, read back, and deleted. A command counts
 * only when the time read back is the one set (a server that says yes and
 * does nothing, or sets another zone's time, cannot be trusted with times).
 */
export async function probeTimeSetting(
  run: SessionRunner,
  setting: TimeSetting,
  dir: string,
): Promise<boolean> {
  const probe = tempPathFor(posix.join(dir, "ftpbatch-time-probe"), 0, Date.now());
  const empty = await Deno.makeTempFile({ prefix: "ftpbatch-probe-" });
  try {
    await run((s) => s.upload(empty, probe, 0, "restart", 0));
    for (;;) {
      const r = await run((s) => s.setTime(setting, probe, PROBE_TIME, { probe: true }));
      if (r.outcome !== "set") return false;
      const back = await run((s) => s.stat(probe));
      if (back?.mtimeMs !== undefined && Math.floor(back.mtimeMs / 1000) * 1000 === PROBE_TIME) {
        return true;
      }
      // Said yes, did not do it: that command is out; try the next.
      const c = setting.commands.find((c) => c.command === r.command);
      if (c) c.state = "ruled out";
      if (cannotSetTimes(setting)) return false;
    }
  } finally {
    await run((s) => s.remove(probe)).catch(() => {});
    await Deno.remove(empty).catch(() => {});
  }
}

/** Holds what one uploader learned of setting times, across its reconnects. */
export interface TimeHolder {
  setting?: TimeSetting;
}

/** What came of giving an uploaded file its local modification time. */
export type TimeSet = "set" | "failed" | "unsupported";

/**
 * Gives `path` the local file's time, learning (into `setting`, created from
 * the first session's FEAT) which command the server takes. Never throws: the
 * file is uploaded and verified either way; without its time the next run
 * sends it again (or, where no time can be set, compares size and age).
 */
export async function setUploadedTime(
  session: Session,
  holder: TimeHolder,
  path: string,
  mtimeMs: number,
): Promise<TimeSet> {
  const setting = holder.setting ??= timeSettingFor(session.features);
  if (cannotSetTimes(setting)) return "unsupported";
  try {
    return (await session.setTime(setting, path, mtimeMs)).outcome;
  } catch {
    return "failed"; // the connection went: the next attempt or run sees to it
  }
}
