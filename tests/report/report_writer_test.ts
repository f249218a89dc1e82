/**
 * The streamed report file: the same JSON as the in-memory report, written
 * under a temporary name and renamed into place only when whole.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildReport, type ReportFile, reportJson, splitReport } from "../../src/report/report.ts";
import {
  removeStaleTemporaries,
  ReportWriter,
  STALE_AFTER_MS,
  temporaryName,
} from "../../src/report/report_writer.ts";
import { waitFor } from "../helpers/partial.ts";

const server = { host: "h", port: 21, user: "u", secure: false as const };

function file(i: number): ReportFile {
  const status = i % 7 === 0 ? "failed" : "uploaded";
  return {
    source: `/l/${i}`,
    destination: `/r/${i}`,
    status,
    size: i,
    bytesSent: i,
    attempts: 1,
    resumedFrom: [],
    worker: 1,
    durationMs: 1,
    ...(status === "failed" ? { error: "550 \x1b[2J denied; PASS pw-53cr3t" } : {}),
  };
}

function report(n: number) {
  return buildReport({
    startedAt: new Date(0),
    finishedAt: new Date(5),
    server,
    workers: 2,
    reconnects: 1,
    shard: { index: 0, count: 1, digest: "d".repeat(64), config: "c".repeat(64) },
    entries: [{
      index: 0,
      source: "/l",
      destination: "/r",
      files: n,
      uploaded: 0,
      skipped: 0,
      planned: 0,
      missing: 0,
      failed: 0,
      bytes: 0,
      bytesSent: 0,
      symlinks: 0,
      emptyFolders: 0,
    }],
    files: Array.from({ length: n }, (_, i) => file(i)),
  });
}

Deno.test("report writer: the streamed file is the in-memory report's JSON, byte for byte", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const n of [0, 1, 3, 5000]) {
      const r = report(n);
      const path = join(dir, `r${n}.json`);
      const secrets = ["pw-53cr3t"];
      const w = new ReportWriter(path, secrets);
      const { head, files, tail } = splitReport(r);
      w.begin(head);
      for (const f of files) w.file(f);
      assert.equal(w.finish(tail), undefined);
      const text = await Deno.readTextFile(path);
      assert.equal(text, [...reportJson(r, { secrets })].join(""));
      const back = JSON.parse(text);
      assert.deepEqual(back.totals, r.totals);
      assert.equal(back.files.length, n);
      assert.ok(!text.includes("pw-53cr3t"));
      // The head comes before the files, the totals after them.
      assert.ok(text.indexOf('"startedAt"') < text.indexOf('"files"'));
      assert.ok(text.indexOf('"totals"') > text.indexOf('"files"'));
      await assert.rejects(Deno.stat(temporaryName(path)), Deno.errors.NotFound);
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report writer: records reach the temporary file while the run goes; the real name only at the end", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "report.json");
    await Deno.writeTextFile(path, '{"old": true}');
    const w = new ReportWriter(path);
    const { head, tail } = splitReport(report(0));
    w.begin(head);
    // Enough records to pass the write buffer.
    for (let i = 0; i < 5000; i++) w.file(file(i));
    const partial = await Deno.readTextFile(temporaryName(path));
    assert.ok(partial.includes('"destination":"/r/100"'), "records written before the end");
    assert.equal(await Deno.readTextFile(path), '{"old": true}', "the old report untouched");
    assert.equal(w.finish(tail), undefined);
    assert.equal(JSON.parse(await Deno.readTextFile(path)).files.length, 5000);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report writer: a folder that is gone: the error is returned, nothing left behind", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "gone", "report.json");
  const w = new ReportWriter(path);
  const { head, files, tail } = splitReport(report(2));
  w.begin(head);
  for (const f of files) w.file(f);
  assert.match(w.finish(tail) ?? "", /No such file|not found|os error 2/i);
  assert.deepEqual([...Deno.readDirSync(dir)], []);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("report writer: leftovers of killed runs (untouched for an hour) are removed, nothing else", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "report.json");
    assert.match(temporaryName(path, 4242), /\/report\.json\.tmp-4242-[0-9a-f]{8}$/);
    const names = {
      stale: "report.json.tmp-4242-0a1b2c3d",
      // Touched within the hour: a live run's, wherever it runs (another container's too).
      live: "report.json.tmp-4243-0a1b2c3d",
      // An older version's name: it has no heartbeat, so its age says nothing.
      oldPattern: "report.json.tmp-4242",
      otherReport: "other.json.tmp-4242-0a1b2c3d",
      suffix: "report.json.tmp-4242-0a1b2c3d.bak",
      notHex: "report.json.tmp-4242-0a1b2c3x",
      zero: "report.json.tmp-0-0a1b2c3d",
    };
    const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
    for (const [key, name] of Object.entries(names)) {
      await Deno.writeTextFile(join(dir, name), "{");
      if (key !== "live") await Deno.utime(join(dir, name), old, old);
    }
    // A folder with the pattern's name is not a file a run left.
    const folder = "report.json.tmp-4244-0a1b2c3d";
    await Deno.mkdir(join(dir, folder));
    await Deno.utime(join(dir, folder), old, old);
    const w = new ReportWriter(path);
    const { head, files, tail } = splitReport(report(2));
    w.begin(head);
    files.forEach((f) => w.file(f));
    assert.equal(w.finish(tail), undefined);
    assert.deepEqual(w.removed, [join(dir, names.stale)]);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    const kept = Object.entries(names).filter(([k]) => k !== "stale").map(([, n]) => n);
    assert.deepEqual(left, ["report.json", folder, ...kept].sort());
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("report writer: a live run touches its temporary report (its heartbeat)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "report.json");
    const w = new ReportWriter(path, [], 20);
    const { head, files, tail } = splitReport(report(1));
    w.begin(head);
    const old = new Date(Date.now() - STALE_AFTER_MS - 60_000);
    await Deno.utime(w.tmp!, old, old);
    await waitFor("the heartbeat", async () => {
      const mtime = (await Deno.stat(w.tmp!)).mtime!.getTime();
      return mtime > old.getTime() + 60_000 ? mtime : undefined;
    }, 10_000);
    // Not stale now: another run writing the same report leaves it alone.
    assert.deepEqual(removeStaleTemporaries(path), []);
    files.forEach((f) => w.file(f));
    assert.equal(w.finish(tail), undefined);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
