/**
 * The streamed report file: the same JSON as the in-memory report, written
 * under a temporary name and renamed into place only when whole.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildReport, type ReportFile, reportJson, splitReport } from "../../src/report/report.ts";
import { ReportWriter, temporaryName } from "../../src/report/report_writer.ts";

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

Deno.test("report writer: leftovers of killed runs (<report>.tmp-<ns>-<dead pid>) are removed, nothing else", async () => {
  const dir = await Deno.makeTempDir();
  // A pid that was running and is not any more, and one that is running.
  const dead = new Deno.Command("true").spawn();
  await dead.status;
  const live = new Deno.Command("sleep", { args: ["60"] }).spawn();
  const ns = /\[(\d+)\]/.exec(await Deno.readLink("/proc/self/ns/pid"))![1];
  try {
    const path = join(dir, "report.json");
    assert.equal(temporaryName(path, dead.pid), `${path}.tmp-${ns}-${dead.pid}`);
    const names = {
      stale: `report.json.tmp-${ns}-${dead.pid}`,
      live: `report.json.tmp-${ns}-${live.pid}`,
      // Another PID namespace (a container on a shared volume): its pids are not ours to test.
      otherNamespace: `report.json.tmp-${Number(ns) + 1}-${dead.pid}`,
      // An older version's name: its pid may be another namespace's too.
      noNamespace: `report.json.tmp-${dead.pid}`,
      otherReport: `other.json.tmp-${ns}-${dead.pid}`,
      suffix: `report.json.tmp-${ns}-${dead.pid}.bak`,
      notPid: `report.json.tmp-${ns}-${dead.pid}x`,
      zero: `report.json.tmp-${ns}-0`,
    };
    for (const name of Object.values(names)) await Deno.writeTextFile(join(dir, name), "{");
    // A folder with the pattern's name is not a file a run left.
    const folder = `report.json.tmp-${ns}-${dead.pid + 1000000}`;
    await Deno.mkdir(join(dir, folder));
    const w = new ReportWriter(path);
    const r = report(2);
    const { head, files, tail } = splitReport(r);
    w.begin(head);
    files.forEach((f) => w.file(f));
    assert.equal(w.finish(tail), undefined);
    assert.deepEqual(w.removed, [join(dir, names.stale)]);
    const left = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    const kept = Object.entries(names).filter(([k]) => k !== "stale").map(([, n]) => n);
    assert.deepEqual(left, ["report.json", folder, ...kept].sort());
  } finally {
    live.kill();
    await live.status;
    await Deno.remove(dir, { recursive: true });
  }
});
