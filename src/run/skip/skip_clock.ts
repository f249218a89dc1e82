/**
 * The skip phase's look at the server's clocks (`plan/server_clock.ts`),
 * between reading the listings and deciding: learns the LIST time zone once
 * per run (one file's MDTM against its LIST line), asks the files whose
 * listed time cannot be trusted one by one, and runs the time probe once
 * per run where a remote time looks shifted by a zone (or, under
 * `"size+newer"`, newer). Each finding is said once per run.
 *
 * @module
 */

import * as posix from "../../ftp/posix_path.ts";
import type { Listing } from "../../ftp/listing.ts";
import { timeSettingFor } from "../../ftp/set_mtime.ts";
import { ConnectionLost } from "../../ftp/errors.ts";
import { carriesServerText, errorText } from "../../ftp/server_text.ts";
import type { SkipRule } from "../../config/types.ts";
import { formatOffset, isListTime, type ServerClock } from "../../plan/server_clock.ts";
import { needsFileCheck, needsProbe, remoteEntryOf } from "../../plan/skip.ts";
import type { UploadJob } from "../../upload/job.ts";
import { listOffset, probeTimeSetting, type SessionRunner } from "./remote_state.ts";

/** Said once when LIST times cannot be tied to UTC. */
export const LIST_ZONE_UNKNOWN_NOTE =
  "the server's LIST times could not be tied to UTC (no MDTM, or a time that is no time zone): " +
  'files of the same size were checked one by one (MDTM); server.listTimeZone (e.g. "UTC" or ' +
  '"+05:00") sets the zone by hand';

export interface ClockCheck {
  run: SessionRunner;
  features: () => Promise<ReadonlyMap<string, string>>;
  /** The listings read, by folder; entries asked one by one are replaced in them. */
  listings: Map<string, Listing>;
  jobs: readonly UploadJob[];
  rule: SkipRule;
  clock: ServerClock;
  /** `--plan`: write nothing, so no time probe (its empty file); times compared as they are. */
  readOnly?: boolean;
  /** The password, kept out of server text said in a note. */
  secrets?: readonly (string | undefined)[];
}

/** Brings `clock` and `listings` to what the decisions need; returns notes not said before. */
export async function settleClock(c: ClockCheck): Promise<string[]> {
  if (c.rule === "none" || c.rule === "size") return [];
  const notes: string[] = [];
  const say = (note: string) => {
    if (c.clock.said.has(note)) return;
    c.clock.said.add(note);
    notes.push(note);
  };
  await learnListZone(c, say);
  await checkOneByOne(c, say);
  const needs = c.jobs.find((j) =>
    needsProbe(j, remoteEntryOf(c.listings, j.destination), c.rule, c.clock)
  );
  if (needs && !c.readOnly) {
    c.clock.probed = true;
    const dir = posix.dirname(needs.destination);
    const setting = timeSettingFor(await c.features());
    let found;
    try {
      found = await probeTimeSetting(c.run, setting, dir);
    } catch (e) {
      // A folder the probe may not write to (553) is no reason to send everything: the
      // zone stays unknown, so no file is skipped on a time that needs it.
      // A refusal (FTPError, or a store cut by one), not a lost connection: the retries
      // of `run` are spent on those.
      if (e instanceof ConnectionLost || !carriesServerText(e)) throw e;
      say(`the time probe could not be stored in ${dir} (${errorText(e, c.secrets ?? [])})`);
      return notes;
    }
    c.clock.setsTimes = found.setsTimes;
    if (found.offsetMs !== undefined) c.clock.factOffsetMs = found.offsetMs;
    if (found.offsetMs) {
      say(
        `the server shows file times at UTC${
          formatOffset(found.offsetMs)
        } (MDTM/MLSD; learned from a probe file); corrected before comparing`,
      );
    }
  }
  return notes;
}

/** LIST minus MDTM for the first listed file to the minute, once per run. */
async function learnListZone(c: ClockCheck, say: (note: string) => void): Promise<void> {
  if (c.clock.listOffsetMs !== undefined) return;
  for (const [dir, listing] of c.listings) {
    for (const [name, entry] of listing) {
      if (entry.type !== "file" || entry.precision !== "minute") continue;
      const offset = await listOffset(c.run, posix.join(dir, name), entry);
      c.clock.listOffsetMs = offset ?? "untrusted";
      if (offset) {
        say(`the server's LIST shows times at UTC${formatOffset(offset)} (learned from MDTM)`);
      }
      return;
    }
  }
}

/** Same-size files whose LIST time cannot be trusted: asked one by one (MLST or SIZE+MDTM). */
async function checkOneByOne(c: ClockCheck, say: (note: string) => void): Promise<void> {
  for (const job of c.jobs) {
    const dir = posix.dirname(job.destination);
    const name = posix.basename(job.destination);
    const listing = c.listings.get(dir);
    const entry = listing?.get(name);
    if (!listing || !entry || !isListTime(entry)) continue;
    if (!needsFileCheck(job, entry, c.rule, c.clock)) continue;
    say(LIST_ZONE_UNKNOWN_NOTE);
    const fact = await c.run((s) => s.stat(job.destination));
    if (fact) listing.set(name, fact);
    else listing.delete(name);
  }
}
