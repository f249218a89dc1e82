import assert from "node:assert/strict";
import { buildReport, exitCodeFor, type ReportFile, reportJson } from "../../src/report/report.ts";
import { formatBytes, summarize } from "../../src/report/summary.ts";

function file(status: ReportFile["status"], size: number, extra: Partial<ReportFile> = {}) {
  return {
    source: `/l/${status}`,
    destination: `/r/${status}`,
    status,
    size,
    bytesSent: status === "uploaded" ? size : 0,
    attempts: status === "missing" ? 0 : 1,
    resumedFrom: [],
    worker: 1,
    durationMs: 5,
    ...extra,
  } satisfies ReportFile;
}

const server = { host: "h", port: 21, user: "u", secure: false as const };

/** A report of `files` from a run of `ms` milliseconds. */
function reportOf(
  files: ReportFile[],
  { ms = 1000, workers = 1, reconnects = 0, notes, dryRun }: {
    ms?: number;
    workers?: number;
    reconnects?: number;
    notes?: string[];
    dryRun?: boolean;
  } = {},
) {
  return buildReport({
    startedAt: new Date(0),
    finishedAt: new Date(ms),
    server,
    workers,
    reconnects,
    files,
    ...(notes ? { notes } : {}),
    ...(dryRun ? { dryRun } : {}),
  });
}

Deno.test("buildReport totals statuses and bytes; never carries a password field", () => {
  const r = buildReport({
    startedAt: new Date("2026-01-01T00:00:00Z"),
    finishedAt: new Date("2026-01-01T00:00:02Z"),
    server,
    workers: 3,
    reconnects: 2,
    files: [
      file("uploaded", 100),
      file("uploaded", 50, { bytesSent: 80 }),
      file("missing", 0),
      file("failed", 7, { bytesSent: 3, error: "x" }),
    ],
  });
  assert.equal(r.version, 2);
  assert.equal(r.durationMs, 2000);
  assert.deepEqual(r.totals, {
    files: 4,
    uploaded: 2,
    skipped: 0,
    planned: 0,
    missing: 1,
    failed: 1,
    bytes: 150,
    bytesSent: 183,
    reconnects: 2,
  });
  assert.ok(!JSON.stringify(r).includes("password"));
});

Deno.test("exitCodeFor: 0 clean, 1 any missing or failed, 130/143 interrupted", () => {
  const t = { ...reportOf([file("uploaded", 1)]).totals };
  assert.equal(exitCodeFor({ totals: t }), 0);
  assert.equal(exitCodeFor({ totals: { ...t, uploaded: 0, skipped: 1 } }), 0);
  assert.equal(exitCodeFor({ totals: { ...t, uploaded: 0, planned: 1 } }), 0);
  assert.equal(exitCodeFor({ totals: { ...t, missing: 1 } }), 1);
  assert.equal(exitCodeFor({ totals: { ...t, failed: 1 } }), 1);
  assert.equal(exitCodeFor({ totals: t, interrupted: "SIGINT" }), 130);
  assert.equal(exitCodeFor({ totals: t, interrupted: "SIGTERM" }), 143);
});

Deno.test("summarize lists counts and every problem with its reason", () => {
  const r = reportOf([
    file("uploaded", 2048),
    file("failed", 1, { error: "550 Permission denied" }),
  ]);
  const text = summarize(r);
  assert.match(text, /2 files: 1 uploaded, 0 skipped, 0 missing, 1 failed/);
  assert.match(text, /2\.0 KiB complete, 2\.0 KiB sent in 1\.00 s/);
  assert.match(text, /failed: \/l\/failed -> \/r\/failed: 550 Permission denied/);
});

Deno.test("skipped files: counted, their reason kept, nothing sent; a run note said once", () => {
  const r = reportOf([
    file("skipped", 10, { reason: "unchanged: size+mtime" }),
    file("uploaded", 5, { bytesSent: 5 }),
  ], { notes: ["the server cannot set modification times"] });
  assert.deepEqual([r.totals.skipped, r.totals.uploaded, r.totals.bytesSent], [1, 1, 5]);
  assert.equal(r.exitCode, 0);
  assert.equal(r.files[0].reason, "unchanged: size+mtime");
  assert.deepEqual(r.notes, ["the server cannot set modification times"]);
  const text = summarize(r);
  assert.match(text, /2 files: 1 uploaded, 1 skipped, 0 missing, 0 failed/);
  assert.equal(text.match(/note: the server cannot set modification times/g)?.length, 1);
  const plain = reportOf([], { ms: 1, notes: [] });
  assert.equal("notes" in plain, false);
});

Deno.test("summarize: a run with nothing to send says what happened, not '0 B … over 4 connections'", () => {
  const run = (files: ReportFile[], workers = 4) =>
    summarize(reportOf(files, { ms: 400, workers })).split("\n")[1];
  const unchanged = file("skipped", 10, { reason: "unchanged: size+mtime" });
  assert.equal(
    run(Array(12).fill(unchanged), 0),
    "nothing to send: 12 files unchanged on the server (checked in 0.40 s)",
  );
  assert.equal(
    run([unchanged, file("missing", 0)]),
    "nothing to send: 1 file unchanged on the server (checked in 0.40 s)",
  );
  assert.equal(run([file("missing", 0)], 0), "nothing to send: every source is missing");
  assert.equal(run([], 0), "nothing to send: no files");
  // Anything sent, or tried and failed, keeps the transfer line.
  assert.match(
    run([unchanged, file("uploaded", 5)], 1),
    /^5 B complete, 5 B sent in 0\.40 s .* over 1 connection,/,
  );
  assert.match(
    run([unchanged, file("failed", 5, { error: "x" })], 0),
    /^0 B complete, 0 B sent .* over 0 connections/,
  );
});

Deno.test("formatBytes", () => {
  assert.equal(formatBytes(0), "0 B");
  assert.equal(formatBytes(1536), "1.5 KiB");
  assert.equal(formatBytes(3 * 1024 ** 3), "3.0 GiB");
});

Deno.test("reportJson streams valid JSON equal to the report, one line per file", () => {
  const make = (n: number) =>
    reportOf(Array.from({ length: n }, (_, i) => file(i % 2 ? "uploaded" : "missing", i)), {
      ms: 5,
      workers: 2,
    });
  for (const n of [0, 1, 3, 2500]) {
    const r = make(n);
    const chunks = [...reportJson(r, { filesPerChunk: 1000 })];
    const text = chunks.join("");
    assert.deepEqual(JSON.parse(text), r);
    assert.equal(text.split("\n").filter((l) => l.startsWith('    {"source"')).length, n);
    if (n === 2500) assert.equal(chunks.length, 1 + 3 + 1);
  }
});

Deno.test("summary rate is bytes sent over the run's time, not bytes of completed files", () => {
  // A 5 GiB file resumed at 4.9 GiB: 100 MiB sent in 50 s is 2 MiB/s, not "102 GiB/s".
  const GiB = 1024 ** 3;
  const r = reportOf([
    file("uploaded", 5 * GiB, { bytesSent: 100 * 1024 ** 2, resumedFrom: [4.9 * GiB] }),
  ], { ms: 50_000, reconnects: 1 });
  const text = summarize(r);
  assert.match(text, /\(2\.0 MiB\/s\)/, text);
  assert.ok(!text.includes("GiB/s"), text);
  assert.match(text, /over 1 connection, 1 reconnect$/m, text);
  assert.ok(!/\b1 connections\b|\b1 reconnects\b/.test(text), text);
});

Deno.test("summary and report escape server text and redact the password", () => {
  const hostile = "550 \x1b[2J\x1b]0;owned\x07 no such file; PASS pw-53cr3t\r\nfake line";
  const r = reportOf([file("failed", 1, { error: hostile })], { workers: 2 });
  const secrets = ["pw-53cr3t"];
  const summary = summarize(r, { secrets });
  const json = [...reportJson(r, { secrets })].join("");
  for (const text of [summary, JSON.parse(json).files[0].error]) {
    // deno-lint-ignore no-control-regex
    assert.ok(!/[\x00-\x08\x0b-\x1f\x7f]/.test(text), JSON.stringify(text));
    assert.ok(!text.includes("pw-53cr3t"), text);
    assert.ok(text.includes("***"), text);
    assert.ok(text.includes("\\x1b[2J"), text);
  }
  assert.equal(summary.split("\n").length, 3, "one line per problem: " + summary);
  assert.ok(!json.includes("pw-53cr3t"));
});

Deno.test("a dry run's summary claims no connection and no rate", () => {
  const files = [
    file("planned", 3072),
    file("planned", 1024),
    file("missing", 0, { error: "source not found" }),
  ];
  const r = reportOf(files, { ms: 10, workers: 4, dryRun: true });
  const text = summarize(r);
  assert.match(text, /^dry run: 3 files: 0 uploaded, 0 skipped, 2 planned, 1 missing, 0 failed$/m);
  assert.match(text, /^4\.0 KiB to send; nothing sent$/m);
  assert.equal(r.totals.planned, 2);
  assert.equal(r.exitCode, 1);
  assert.ok(!/connection|\/s/.test(text), text);
});

Deno.test("summary: one file is '1 file', not '1 files'", () => {
  const text = summarize(reportOf([file("planned", 3)], { dryRun: true }));
  assert.match(text, /^dry run: 1 file: 0 uploaded/m);
});
