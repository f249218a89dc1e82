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
import {
  cannotSetTimes,
  knownTimeLine,
  setRemoteTime,
  type TimeSetting,
  timeSettingFor,
} from "../ftp/set_mtime.ts";
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
    await run((s) =>
      s.upload({ localPath: empty, remotePath: probe, offset: 0, method: "restart", size: 0 })
    );
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
 * The end of an upload: gives the verified file (`target`) the local file's
 * time, learning (into `holder`, from the first session's FEAT) which command
 * the server takes, then (atomic mode, `destination` given) renames it into
 * place. Before the rename: the time goes with the file, and a rename that
 * fails leaves the old file's time alone. Once a command has worked, it goes
 * out in one write with the rename (no extra round trip per file).
 *
 * Setting the time never fails the file (without it the next run sends the file
 * again, or where no time can be set compares size and age); the rename's
 * errors are thrown as before.
 */
export async function finishUpload(
  session: Session,
  holder: TimeHolder,
  target: string,
  destination: string | undefined,
  mtimeMs: number,
): Promise<TimeSet> {
  const setting = holder.setting ??= timeSettingFor(session.features);
  let outcome: TimeSet = "unsupported";
  const line = knownTimeLine(setting, target, mtimeMs);
  if (line !== undefined && destination !== undefined) {
    const reply = await session.rename(target, destination, line);
    // setRemoteTime sends the known command once: its reply is the one that just came.
    const r = await setRemoteTime(setting, () => Promise.resolve(reply!), target, mtimeMs);
    return r.outcome;
  }
  if (!cannotSetTimes(setting)) {
    try {
      outcome = (await session.setTime(setting, target, mtimeMs)).outcome;
    } catch {
      outcome = "failed"; // the connection went: the rename below meets it and is retried
    }
  }
  if (destination !== undefined) await session.rename(target, destination);
  return outcome;
}
