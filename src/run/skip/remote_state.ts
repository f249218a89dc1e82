/**
 * What is already on the server, read over one connection for the skip
 * decision (`plan/skip.ts`): a destination folder's listing, narrowed to the
 * names the run wants from it, falling back to one MLST or SIZE+MDTM per file
 * where the folder cannot be listed; and the time probe, which learns before
 * any upload whether the server can set modification times (an uploaded
 * file's time is set by `upload/finish_upload.ts`).
 *
 * Every operation goes through `run`, the uploader's reconnect-and-retry loop,
 * so a dropped connection costs a reconnect, not a wrong decision.
 *
 * @module
 */

import * as posix from "../../ftp/posix_path.ts";
import { FTPError, ProtocolError } from "../../ftp/errors.ts";
import type { RemoteEntry } from "../../ftp/listing.ts";
import type { Session } from "../../ftp/session.ts";
import { cannotSetTimes, type TimeSetting } from "../../ftp/set_mtime.ts";
import { tempPathFor } from "../../upload/temp_name.ts";
import { zoneOffset } from "../../ftp/time_zone.ts";

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
    if (entry) {
      entries.push([name, entry]);
    } else if (name.startsWith(".")) {
      // A listing may hide dot names (vsftpd's LIST, without `-a` or where it is ignored):
      // missing from it is not proof of absence. One file asked after costs less than a re-send.
      const asked = await run((s) => s.stat(posix.join(req.dir, name)));
      if (asked) entries.push([name, asked]);
    }
  }
  return { dir: req.dir, entries, how: "listing" };
}

/** The time the probe file is given: far from any real upload time, and from any zone's shift of one. */
const PROBE_TIME = Date.UTC(2001, 1, 3, 4, 5, 6);

/** How far a server's clock may be from ours and still tell its zone by an upload's time. */
const CLOCK_SLACK_MS = 120_000;

/** What the probe learned: can the server set times, and in which zone does it show them. */
export interface ProbeResult {
  setsTimes: boolean;
  /**
   * Times as the server shows them (MDTM/MLST/MLSD) minus UTC: 0 for RFC 3659
   * servers; pyftpdlib with `use_gmt_times = False` shows its local time.
   * Absent where it could not be told.
   */
  offsetMs?: number;
}

/**
 * Whether the server can set modification times, and the zone it shows them
 * in, learned on a probe: an empty file with a temporary name
 * (`.ftpbatch-time-probe.ftpbatch-….part`, a shape no destination may have)
 * is stored in `dir`, given a time with each command `setting` still allows,
 * read back, and deleted. A command counts only when the time read back is
 * the one set, or off by whole quarter hours (a zone: the server sets UTC
 * but shows local time). Where no command works, the probe's upload time
 * against this machine's clock tells the zone, if the clocks agree.
 */
export async function probeTimeSetting(
  run: SessionRunner,
  setting: TimeSetting,
  dir: string,
): Promise<ProbeResult> {
  const probe = tempPathFor(posix.join(dir, "ftpbatch-time-probe"), 0, Date.now());
  const empty = await Deno.makeTempFile({ prefix: "ftpbatch-probe-" });
  try {
    const sentAt = Date.now();
    await run((s) =>
      s.upload({ localPath: empty, remotePath: probe, offset: 0, method: "restart", size: 0 })
    );
    for (;;) {
      const r = await run((s) => s.setTime(setting, probe, PROBE_TIME, { probe: true }));
      if (r.outcome !== "set") return { setsTimes: false, ...await uploadZone(run, probe, sentAt) };
      const back = await run((s) => s.stat(probe));
      if (back?.mtimeMs !== undefined) {
        const offsetMs = zoneOffset(Math.floor(back.mtimeMs / 1000) * 1000 - PROBE_TIME);
        if (offsetMs !== undefined) return { setsTimes: true, offsetMs };
      }
      // Said yes, did not do it: that command is out; try the next.
      const c = setting.commands.find((c) => c.command === r.command);
      if (c) c.state = "ruled out";
      if (cannotSetTimes(setting)) {
        return { setsTimes: false, ...await uploadZone(run, probe, sentAt) };
      }
    }
  } finally {
    await run((s) => s.remove(probe)).catch(() => {});
    await Deno.remove(empty).catch(() => {});
  }
}

/** The zone a server shows times in, from a file it stored at `sentAt` (our clock). */
async function uploadZone(
  run: SessionRunner,
  path: string,
  sentAt: number,
): Promise<{ offsetMs?: number }> {
  const back = await run((s) => s.stat(path));
  if (back?.mtimeMs === undefined) return {};
  const offsetMs = zoneOffset(back.mtimeMs - sentAt, CLOCK_SLACK_MS);
  return offsetMs === undefined ? {} : { offsetMs };
}

/**
 * LIST time minus fact time for one listed file: its MDTM (or MLST) against
 * its LIST line, to the minute. Undefined when the server gives no time or
 * the two differ by something that is no time zone.
 */
export async function listOffset(
  run: SessionRunner,
  path: string,
  listed: RemoteEntry,
): Promise<number | undefined> {
  if (listed.mtimeMs === undefined || listed.precision !== "minute") return undefined;
  const fact = await run((s) => s.stat(path));
  if (fact?.mtimeMs === undefined) return undefined;
  return zoneOffset(listed.mtimeMs - Math.floor(fact.mtimeMs / 60_000) * 60_000);
}
