import assert from "node:assert/strict";
import {
  decideSkip,
  needsFileCheck,
  needsProbe,
  NOT_OLDER_REASON,
  planSkips,
  remoteEntryOf,
} from "../../src/plan/skip.ts";
import { newServerClock } from "../../src/plan/server_clock.ts";
import type { RemoteEntry } from "../../src/ftp/listing.ts";

const T = Date.UTC(2026, 10, 26, 15, 39, 7); // a whole second
const local = { size: 100, mtimeMs: T + 640 }; // local file systems keep sub-second times
const file = (over: Partial<RemoteEntry> = {}): RemoteEntry => ({
  type: "file",
  size: 100,
  mtimeMs: T,
  precision: "second",
  ...over,
});

Deno.test("size+mtime: same size and same second is unchanged; not one byte to send", () => {
  assert.deepEqual(decideSkip(local, file()), { skip: true, reason: "unchanged: size+mtime" });
  assert.deepEqual(decideSkip(local, file(), "size+mtime"), decideSkip(local, file()));
});

Deno.test("size+mtime: a different second, a different size, or no remote copy is sent", () => {
  const newer = decideSkip({ ...local, mtimeMs: T + 1000 }, file());
  assert.equal(newer.skip, false);
  assert.match(newer.reason, /modification time differs/);
  const older = decideSkip({ ...local, mtimeMs: T - 1 }, file());
  assert.equal(older.skip, false);
  const resized = decideSkip({ ...local, size: 101 }, file());
  assert.deepEqual(resized, { skip: false, reason: "size differs (local 101, remote 100 bytes)" });
  assert.deepEqual(decideSkip(local, undefined), { skip: false, reason: "not on the server" });
});

Deno.test("precision: both times are truncated to the listing's minute or day", () => {
  const minute = file({ mtimeMs: Date.UTC(2026, 10, 26, 15, 39), precision: "minute" });
  assert.equal(decideSkip({ size: 100, mtimeMs: T + 52_000 }, minute).skip, true); // 15:39:59
  assert.equal(decideSkip({ size: 100, mtimeMs: T + 53_000 }, minute).skip, false); // 15:40:00
  const day = file({ mtimeMs: Date.UTC(2025, 0, 1), precision: "day" });
  assert.equal(
    decideSkip({ size: 100, mtimeMs: Date.UTC(2025, 0, 1, 23, 59, 59) }, day).skip,
    true,
  );
  assert.equal(decideSkip({ size: 100, mtimeMs: Date.UTC(2025, 0, 2) }, day).skip, false);
  assert.equal(decideSkip({ size: 100, mtimeMs: Date.UTC(2024, 11, 31, 23, 59) }, day).skip, false);
});

Deno.test("size rule: the same size is enough; the time does not matter", () => {
  const moved = file({ mtimeMs: T + 3_600_000 });
  assert.deepEqual(decideSkip(local, moved, "size"), { skip: true, reason: "unchanged: size" });
  assert.equal(decideSkip(local, file({ mtimeMs: undefined }), "size").skip, true);
  assert.equal(decideSkip({ ...local, size: 99 }, moved, "size").skip, false);
  assert.equal(decideSkip(local, moved, "size+mtime").skip, false);
});

Deno.test("none: always sent, even an identical copy", () => {
  assert.deepEqual(decideSkip(local, file(), "none"), {
    skip: false,
    reason: "skip rule none: always sent",
  });
});

Deno.test("a folder, link or special file at the destination, or a listing without size or time, is sent", () => {
  assert.deepEqual(decideSkip(local, file({ type: "dir" })), {
    skip: false,
    reason: "on the server as a folder",
  });
  assert.equal(decideSkip(local, file({ type: "link" }), "size").skip, false);
  assert.equal(decideSkip(local, file({ type: "other" }), "size").skip, false);
  assert.equal(decideSkip(local, file({ size: undefined }), "size").skip, false);
  assert.deepEqual(decideSkip(local, file({ mtimeMs: undefined })), {
    skip: false,
    reason: "remote modification time unknown",
  });
});

Deno.test("a same-size remote copy that is newer: sent by default, skipped only under size+newer (issue 21 item 3)", () => {
  const uploadedLater = file({ mtimeMs: T + 60_000 });
  // The default never skips on a guess, even where the server cannot set times.
  assert.equal(decideSkip(local, uploadedLater).skip, false);
  assert.deepEqual(decideSkip(local, uploadedLater, "size+newer"), {
    skip: true,
    reason: NOT_OLDER_REASON,
  });
  // Changed locally after the upload: sent.
  const editedAfter = { ...local, mtimeMs: T + 120_000 };
  assert.equal(decideSkip(editedAfter, uploadedLater, "size+newer").skip, false);
  // Same size is still required.
  assert.equal(decideSkip({ ...local, size: 1 }, uploadedLater, "size+newer").skip, false);
});

Deno.test("remote times read through the server's clock: a zone is corrected, an unknown LIST zone never skips", () => {
  const H = 3_600_000;
  // pyftpdlib with use_gmt_times=False, five hours ahead: MLSD shows local time.
  const shifted = file({ mtimeMs: T + 5 * H });
  const clock = newServerClock();
  assert.equal(decideSkip(local, shifted, "size+mtime", { clock }).skip, false);
  assert.equal(needsProbe(local, shifted, "size+mtime", clock), true); // a whole zone off: probe
  assert.equal(needsProbe(local, file({ mtimeMs: T + 5 * H + 7_000 }), "size+mtime", clock), false);
  clock.probed = true;
  clock.factOffsetMs = 5 * H;
  assert.equal(needsProbe(local, shifted, "size+mtime", clock), false); // once per run
  assert.deepEqual(decideSkip(local, shifted, "size+mtime", { clock }), {
    skip: true,
    reason: "unchanged: size+mtime",
  });
  // A same-size edit an hour later (the case) is sent, under either time rule.
  const edited = { ...local, mtimeMs: T + H };
  assert.equal(decideSkip(edited, shifted, "size+mtime", { clock }).skip, false);
  assert.equal(decideSkip(edited, shifted, "size+newer", { clock }).skip, false);
  // LIST to the minute in an unknown zone: not trusted; asked one by one.
  const listed = file({ mtimeMs: Math.floor(T / 60_000) * 60_000, precision: "minute" });
  const fresh = newServerClock();
  assert.deepEqual(decideSkip(local, listed, "size+mtime", { clock: fresh }), {
    skip: false,
    reason: "remote time in an unknown time zone",
  });
  assert.equal(needsFileCheck(local, listed, "size+mtime", fresh), true);
  assert.equal(needsFileCheck(local, listed, "size", fresh), false);
  // Known (learned or given): corrected and trusted.
  const byHand = newServerClock("-03:00");
  const westward = file({ mtimeMs: Math.floor(T / 60_000) * 60_000 - 3 * H, precision: "minute" });
  assert.equal(decideSkip(local, westward, "size+mtime", { clock: byHand }).skip, true);
  assert.equal(needsFileCheck(local, westward, "size+mtime", byHand), false);
});

Deno.test("needsProbe under size+newer: a newer remote copy needs the probe (a clock ahead would hide edits)", () => {
  const clock = newServerClock();
  assert.equal(needsProbe(local, file({ mtimeMs: T + 60_000 }), "size+newer", clock), true);
  assert.equal(needsProbe(local, file({ mtimeMs: T + 60_000 }), "size+mtime", clock), false);
  assert.equal(needsProbe(local, file(), "size+newer", clock), false); // equal
  assert.equal(needsProbe(local, file({ mtimeMs: T - 60_000 }), "size+newer", clock), false);
  assert.equal(
    needsProbe({ ...local, size: 1 }, file({ mtimeMs: T + 60_000 }), "size+newer", clock),
    false,
  );
  assert.equal(needsProbe(local, undefined, "size+newer", clock), false);
});

Deno.test("planSkips: splits jobs by their folder's listing, in order, counting the not-older rule", () => {
  const listings = new Map([
    [
      "/in",
      new Map<string, RemoteEntry>([["same.txt", file()], [
        "newer.txt",
        file({ mtimeMs: T + 60_000 }),
      ]]),
    ],
    ["/", new Map<string, RemoteEntry>([["root.txt", file({ size: 7 })]])],
  ]);
  const jobs = [
    { id: 1, destination: "/in/same.txt", ...local },
    { id: 2, destination: "/in/newer.txt", ...local },
    { id: 3, destination: "/in/absent.txt", ...local },
    { id: 4, destination: "/root.txt", ...local },
    { id: 5, destination: "/unlisted/x.txt", ...local },
  ];
  const strict = planSkips(jobs, listings);
  assert.deepEqual(strict.send.map((j) => j.id), [2, 3, 4, 5]);
  assert.deepEqual(strict.skipped.map((s) => [s.job.id, s.reason]), [[1, "unchanged: size+mtime"]]);
  assert.equal(strict.notOlder, 0);
  const lenient = planSkips(jobs, listings, "size+newer");
  assert.deepEqual(lenient.skipped.map((s) => s.job.id), [1, 2]);
  assert.equal(lenient.notOlder, 1);
  assert.deepEqual(planSkips(jobs, listings, "none").send.length, 5);
  assert.equal(remoteEntryOf(listings, "/in/same.txt")?.size, 100);
});
