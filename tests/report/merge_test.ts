import assert from "node:assert/strict";
import { mergeReports, worstExitCode } from "../../src/report/merge.ts";
import { buildReport, type Report, type ReportFile } from "../../src/report/report.ts";
import { filesDigest, shardOf } from "../../src/plan/shard.ts";

const server = { host: "127.0.0.1", port: 2121, user: "u", secure: false as const };
const COUNT = 3;
const DESTS = Array.from({ length: 30 }, (_, i) => `/in/d${i % 4}/f${i}.bin`);
const DIGEST = await filesDigest(DESTS.map((destination) => ({ destination })));
const CONFIG = "c".repeat(64);

/** The first file of each shard is missing, the rest uploaded. */
const FIRST_IN_SHARD = new Set(
  [...Array(COUNT).keys()].map((k) => DESTS.find((d) => shardOf(d, COUNT) === k)),
);

function file(destination: string, i: number): ReportFile {
  const status = FIRST_IN_SHARD.has(destination) ? "missing" : "uploaded";
  return {
    source: `/data${destination}`,
    destination,
    status,
    size: status === "missing" ? 0 : 100 + i,
    bytesSent: status === "missing" ? 0 : 100 + i,
    attempts: status === "missing" ? 0 : 1,
    resumedFrom: [],
    worker: 1,
    durationMs: 3,
    ...(status === "missing" ? { error: "source not found" } : {}),
  };
}

/** Shard `index`'s report: its files in config order, as the coordinator builds it. */
function shardReport(
  index: number,
  extra: {
    startS?: number;
    endS?: number;
    interrupted?: "SIGINT" | "SIGTERM";
    dryRun?: boolean;
  } = {},
): Report {
  return buildReport({
    startedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, extra.startS ?? 10 + index)),
    finishedAt: new Date(Date.UTC(2026, 0, 1, 0, 0, extra.endS ?? 20 + index)),
    server,
    workers: 2,
    reconnects: index,
    interrupted: extra.interrupted,
    dryRun: extra.dryRun,
    shard: { index, count: COUNT, digest: DIGEST, config: CONFIG },
    files: DESTS.flatMap((d, i) => shardOf(d, COUNT) === index ? [file(d, i)] : []),
  });
}

const named = (reports: Report[]) => reports.map((report, i) => ({ name: `r${i}.json`, report }));

Deno.test("merge: every file once, grouped by shard; totals recomputed; times and workers combined", () => {
  const reports = [shardReport(2), shardReport(0, { startS: 5 }), shardReport(1, { endS: 40 })];
  assert.ok(reports.every((r) => r.files.length > 0), "each shard has files in this fixture");
  const merged = mergeReports(named(reports));
  const unsharded = buildReport({
    startedAt: new Date(0),
    finishedAt: new Date(1),
    server,
    workers: 2,
    reconnects: 0 + 1 + 2,
    files: DESTS.map(file),
  });
  assert.deepEqual(merged.totals, unsharded.totals);
  // Shard 0's files first, each shard's in its own order.
  assert.deepEqual(
    merged.files,
    [0, 1, 2].flatMap((k) => unsharded.files.filter((f) => shardOf(f.destination, COUNT) === k)),
  );
  assert.equal(merged.startedAt, "2026-01-01T00:00:05.000Z");
  assert.equal(merged.finishedAt, "2026-01-01T00:00:40.000Z");
  assert.equal(merged.durationMs, 35_000);
  assert.equal(merged.workers, 6);
  assert.equal(merged.exitCode, 1, "missing files in the shards");
  assert.equal(merged.shard, undefined);
  assert.deepEqual(merged.merged?.shards.map((s) => [s.index, s.exitCode]), [[0, 1], [1, 1], [
    2,
    1,
  ]]);
  // The inputs' order does not matter.
  assert.deepEqual(mergeReports(named([...reports].reverse())), merged);
});

Deno.test("worstExitCode follows 2 > 3 > 143 > 130 > 1 > 0", () => {
  assert.equal(worstExitCode([]), 0);
  assert.equal(worstExitCode([0, 0]), 0);
  assert.equal(worstExitCode([0, 1, 0]), 1);
  assert.equal(worstExitCode([1, 130]), 130);
  assert.equal(worstExitCode([130, 143, 1]), 143);
  assert.equal(worstExitCode([143, 3, 0]), 3);
  assert.equal(worstExitCode([3, 2, 143]), 2);
});

Deno.test("merge exit code: the worst shard's, read from each report", () => {
  const clean = (r: Report): Report => {
    const files = r.files.map((f) => ({ ...f, status: "uploaded" as const, error: undefined }));
    return { ...r, files, exitCode: 0 };
  };
  const [a, b, c] = [0, 1, 2].map((i) => clean(shardReport(i)));
  assert.equal(mergeReports(named([a, b, c])).exitCode, 0);
  assert.equal(mergeReports(named([a, { ...b, exitCode: 3 }, c])).exitCode, 3);
  const stopped = shardReport(1, { interrupted: "SIGTERM" });
  assert.equal(stopped.exitCode, 143);
  const m = mergeReports(named([a, stopped, { ...c, exitCode: 1 }]));
  assert.equal(m.exitCode, 143);
  assert.equal(m.interrupted, "SIGTERM");
  // A report without exitCode (older writer) gets it from its totals.
  const { exitCode: _, ...old } = shardReport(0);
  assert.equal(mergeReports(named([old as Report, b, c])).exitCode, 1);
});

Deno.test("merge refuses reports that do not fit together, naming them", () => {
  const [a, b, c] = [0, 1, 2].map((i) => shardReport(i));
  const refuse = (reports: unknown[], pattern: RegExp) =>
    assert.throws(
      () => mergeReports(reports.map((report, i) => ({ name: `r${i}.json`, report }))),
      pattern,
    );
  refuse(
    [a, { ...b, server: { ...server, port: 21 } }, c],
    /r1\.json .*another server than r0\.json/,
  );
  refuse([a, { ...b, shard: { ...b.shard!, digest: "0".repeat(64) } }, c], /different configs/);
  refuse([a, { ...b, shard: { ...b.shard!, count: 4 } }, c], /shards of different counts/);
  refuse([a, { ...b, dryRun: true }, c], /mix a dry run/);
  refuse([a, b, c, b], /r1\.json and r3\.json are both shard 1\/3|r3\.json and r1\.json/);
  refuse([a, c], /no report for shard 1\/3/);
  // A file in two reports: the same destination listed by a forged shard 1 too.
  const stolen = { ...b, files: [...b.files, a.files[0]] };
  refuse(
    [a, stolen, c],
    new RegExp(`${a.files[0].destination} is in both r0\\.json and r1\\.json`),
  );
  // A file listed by a shard it does not belong to (reports of another hash, or edited).
  const wrong = { ...b, files: [...b.files, ...a.files.slice(0, 1)] };
  refuse([wrong, { ...a, files: a.files.slice(1) }, c], /belongs to shard 0\/3/);
  const { shard: _, ...unsharded } = a;
  refuse([unsharded, b, c], /r0\.json is not a shard report/);
  refuse([{ ...a, exitCode: 7 }, b, c], /"exitCode" 7/);
  refuse([{ version: 1 }, b, c], /r0\.json is not an ftpbatch report/);
  refuse(["text"], /not a JSON object/);
  refuse([], /no reports/);
});

Deno.test("buildReport records the run's exit code: 3 when nothing connected, unless interrupted", () => {
  const base = {
    startedAt: new Date(0),
    finishedAt: new Date(1),
    server,
    workers: 1,
    reconnects: 0,
    files: [file("/in/a", 0)].map((f) => ({ ...f, status: "uploaded" as const })),
  };
  assert.equal(buildReport(base).exitCode, 0);
  assert.equal(
    buildReport({ ...base, files: [{ ...base.files[0], status: "failed" }] }).exitCode,
    1,
  );
  assert.equal(buildReport({ ...base, connectFailed: true }).exitCode, 3);
  assert.equal(buildReport({ ...base, connectFailed: true, interrupted: "SIGINT" }).exitCode, 130);
  assert.equal(buildReport({ ...base, interrupted: "SIGTERM" }).exitCode, 143);
});

const refuse = (reports: unknown[], pattern: RegExp, opts = {}) =>
  assert.throws(
    () => mergeReports(reports.map((report, i) => ({ name: `r${i}.json`, report })), opts),
    pattern,
  );

Deno.test("merge refuses shards run under another effective config (include, exclude, source)", () => {
  const [a, b, c] = [0, 1, 2].map((i) => shardReport(i));
  const other = { ...b, shard: { ...b.shard!, config: "e".repeat(64) } };
  refuse([a, other, c], /r1\.json and r0\.json were run under different settings/);
  // A report of an older writer has no config digest: it cannot be checked, so it is refused.
  const { config: _, ...old } = b.shard!;
  refuse([a, { ...b, version: 1, shard: old }, c], /r1\.json has no digest of its config/);
});

Deno.test("merge refuses a stale shard report (started long before the others) unless allowed", () => {
  const [a, b] = [0, 1].map((i) => shardReport(i));
  // Shard 2 is from yesterday's run: a pod killed then.
  const stale = shardReport(2, { startS: -86_400, endS: -86_000 });
  refuse(
    [a, b, stale],
    /r2\.json started at 2025-12-31.* but r1\.json at .*more than 12 hours apart/,
  );
  const m = mergeReports(named([a, b, stale]), { maxSpreadMs: 48 * 3600_000 });
  assert.equal(m.merged?.shards.length, 3);
});

Deno.test("merge refuses an index beyond the count, non-numeric sizes, uploads in a dry run", () => {
  const [a, b, c] = [0, 1, 2].map((i) => shardReport(i));
  refuse(
    [a, b, c, { ...c, shard: { ...c.shard!, index: 5 }, files: [] }],
    /r3\.json says shard 5\/3/,
  );
  refuse([a, b, { ...c, shard: { ...c.shard!, index: -1 }, files: [] }], /says shard -1\/3/);
  const sized = (v: unknown) => ({
    ...b,
    files: [{ ...b.files[1], size: v }, ...b.files.slice(2)],
  });
  refuse([a, sized("12"), c], /r1\.json is not an ftpbatch report: files\[0\] .* has size "12"/);
  refuse([a, sized(-1), c], /has size -1/);
  refuse([a, sized(1.5), c], /has size 1\.5/);
  refuse([a, { ...b, files: [{ ...b.files[1], bytesSent: null }] }, c], /has bytesSent null/);
  const [da, db, dc] = [0, 1, 2].map((i) => shardReport(i, { dryRun: true }));
  const planned = (r: Report) => ({
    ...r,
    files: r.files.map((f) => ({ ...f, status: "planned" as const, bytesSent: 0 })),
  });
  assert.equal(mergeReports(named([planned(da), planned(db), planned(dc)])).totals.uploaded, 0);
  refuse([planned(da), db, planned(dc)], /r1\.json is a dry run but says .* was uploaded/);
  const sent = planned(db);
  sent.files[0] = { ...sent.files[0], bytesSent: 10 };
  refuse([planned(da), sent, planned(dc)], /r1\.json is a dry run but says .* was sent/);
});
