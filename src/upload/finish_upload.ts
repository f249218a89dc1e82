/**
 * The end of an upload: the verified file is given the local file's
 * modification time, so the next run can compare (the skip rules), and in
 * atomic mode renamed into place. The command that sets times is learned
 * once per uploader (`TimeHolder`), across its reconnects.
 *
 * @module
 */

import type { Session } from "../ftp/session.ts";
import {
  cannotSetTimes,
  knownTimeLine,
  setRemoteTime,
  type TimeSetting,
  timeSettingFor,
} from "../ftp/set_mtime.ts";

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
