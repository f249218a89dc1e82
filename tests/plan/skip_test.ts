import assert from "node:assert/strict";
import {
  decideSkip,
  dependsOnTimeSetting,
  foldersToList,
  NOT_OLDER_REASON,
  planSkips,
  remoteEntryOf,
} from "../../src/plan/skip.ts";
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

Deno.test("a server that cannot set times: a same-size remote copy at least as new is unchanged", () => {
  const uploadedLater = file({ mtimeMs: T + 60_000 });
  assert.equal(decideSkip(local, uploadedLater).skip, false); // by default times must match
  assert.equal(
    decideSkip(local, uploadedLater, "size+mtime", { serverSetsTimes: true }).skip,
    false,
  );
  assert.deepEqual(decideSkip(local, uploadedLater, "size+mtime", { serverSetsTimes: false }), {
    skip: true,
    reason: NOT_OLDER_REASON,
  });
  // Changed locally after the upload: sent.
  const editedAfter = { ...local, mtimeMs: T + 120_000 };
  assert.equal(
    decideSkip(editedAfter, uploadedLater, "size+mtime", { serverSetsTimes: false }).skip,
    false,
  );
  // Same size is still required.
  assert.equal(
    decideSkip({ ...local, size: 1 }, uploadedLater, "size+mtime", { serverSetsTimes: false }).skip,
    false,
  );
});

Deno.test("dependsOnTimeSetting is true only where the server's ability changes the decision", () => {
  assert.equal(dependsOnTimeSetting(local, file({ mtimeMs: T + 60_000 })), true);
  assert.equal(dependsOnTimeSetting(local, file()), false); // equal: skipped either way
  assert.equal(dependsOnTimeSetting(local, file({ mtimeMs: T - 60_000 })), false); // older: sent
  assert.equal(dependsOnTimeSetting({ ...local, size: 1 }, file({ mtimeMs: T + 60_000 })), false);
  assert.equal(dependsOnTimeSetting(local, file({ mtimeMs: T + 60_000 }), "size"), false);
  assert.equal(dependsOnTimeSetting(local, undefined), false);
});

Deno.test("foldersToList: each destination folder once, sorted, without the ones this run created", () => {
  const dests = ["/in/b/x", "/in/a/y", "/in/a/z", "/top.txt", "/in/new/w"];
  assert.deepEqual(foldersToList(dests, new Set(["/in/new", "/in"])), ["/", "/in/a", "/in/b"]);
  assert.deepEqual(foldersToList([]), []);
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
  const lenient = planSkips(jobs, listings, "size+mtime", { serverSetsTimes: false });
  assert.deepEqual(lenient.skipped.map((s) => s.job.id), [1, 2]);
  assert.equal(lenient.notOlder, 1);
  assert.deepEqual(planSkips(jobs, listings, "none").send.length, 5);
  assert.equal(remoteEntryOf(listings, "/in/same.txt")?.size, 100);
});
