import assert from "node:assert/strict";
import { eventLine, fileLine, type RunEvent } from "../../src/report/events.ts";
import { duration, progressLine, RateWindow } from "../../src/report/progress_line.ts";
import type { ReportFile } from "../../src/report/report.ts";

const AT = new Date("2026-01-02T03:04:05.678Z");
const FILE: ReportFile = {
  source: "/data/a.bin",
  destination: "/up/a.bin",
  status: "failed",
  size: 2048,
  bytesSent: 1024,
  attempts: 3,
  resumedFrom: [512],
  worker: 2,
  durationMs: 1500,
  error: "gave up after 3 attempts: 451 bad\x1b[31m s3cret",
};

Deno.test("eventLine: type and time first, a file event flat, server text made safe", () => {
  const line = eventLine({ type: "file", file: FILE }, ["s3cret"], AT)!;
  assert.ok(!line.includes("\n"));
  const e = JSON.parse(line);
  assert.deepEqual(Object.keys(e).slice(0, 2), ["type", "time"]);
  assert.equal(e.time, "2026-01-02T03:04:05.678Z");
  assert.deepEqual({ ...e, type: undefined, time: undefined, error: undefined }, {
    ...FILE,
    type: undefined,
    time: undefined,
    error: undefined,
  });
  assert.equal(e.error, "gave up after 3 attempts: 451 bad\\x1b[31m ***");
  // The report entry itself is left as it was.
  assert.match(FILE.error!, /s3cret/);
});

Deno.test("eventLine: retry and run-end as given; progress is for the terminal only", () => {
  const retry: RunEvent = {
    type: "retry",
    worker: 1,
    path: "/up/a.bin",
    attempt: 2,
    error: "421 s3cret\r\n",
    delayMs: 250,
    reconnect: true,
  };
  assert.deepEqual(JSON.parse(eventLine(retry, ["s3cret"], AT)!), {
    ...retry,
    time: AT.toISOString(),
    error: "421 ***\\x0d\\x0a",
  });
  const totals = {
    files: 1,
    uploaded: 0,
    skipped: 0,
    planned: 0,
    missing: 0,
    failed: 1,
    bytes: 0,
    bytesSent: 1024,
    reconnects: 1,
  };
  const end: RunEvent = {
    type: "run-end",
    exitCode: 1,
    durationMs: 9,
    dryRun: false,
    totals,
    report: null,
  };
  assert.deepEqual(JSON.parse(eventLine(end, [], AT)!), { ...end, time: AT.toISOString() });
  assert.equal(
    eventLine({ type: "progress", bytesSent: 1, bytesMoving: 1, connections: 1 }, [], AT),
    undefined,
  );
});

Deno.test("fileLine: status, destination, size, time, attempts, resume offsets, reason", () => {
  assert.equal(
    fileLine(FILE, ["s3cret"]),
    "failed: /up/a.bin (2.0 KiB, 1.50 s, 3 attempts, resumed at 512): " +
      "gave up after 3 attempts: 451 bad\\x1b[31m ***",
  );
  const ok: ReportFile = { ...FILE, status: "uploaded", attempts: 1, resumedFrom: [] };
  delete ok.error;
  assert.equal(fileLine(ok, []), "uploaded: /up/a.bin (2.0 KiB, 1.50 s)");
  const missing: ReportFile = { ...FILE, status: "missing", error: "source no such file" };
  assert.equal(fileLine(missing, []), "missing: /up/a.bin: source no such file");
});

Deno.test("progressLine: counts, bytes of the total, rate, ETA from what is left", () => {
  const s = {
    files: 10,
    filesDone: 3,
    bytes: 8192,
    bytesSent: 3072,
    bytesDone: 2048,
    connections: 2,
    retries: 1,
  };
  assert.equal(
    progressLine(s, 1024),
    "progress: 3/10 files, 3.0 KiB of 8.0 KiB sent, 1.0 KiB/s, ETA 6 s, 2 connections, 1 retry",
  );
  assert.equal(
    progressLine({ ...s, connections: 1, retries: 0 }, undefined),
    "progress: 3/10 files, 3.0 KiB of 8.0 KiB sent, ? B/s, ETA ?, 1 connection, 0 retries",
  );
  assert.match(progressLine({ ...s, bytesDone: 8192 }, 0), /, ETA 0 s,/);
  assert.match(progressLine({ ...s, bytes: 1024 * 1024 * 200 }, 1024 * 1024), /ETA 3:20,/);
  assert.equal(duration(59.2), "1:00");
  assert.equal(duration(3725), "1:02:05");
  assert.equal(duration(0.3), "1 s");
});

Deno.test("RateWindow: bytes over the last seconds only; unknown until it spans enough", () => {
  const w = new RateWindow(5000, 500);
  w.add(0, 0);
  assert.equal(w.rate(), undefined);
  w.add(400, 1000);
  assert.equal(w.rate(), undefined);
  w.add(1000, 10_000);
  assert.equal(w.rate(), 10_000);
  // A fast start, then a slow stretch: the window forgets the start.
  w.add(6000, 20_000);
  w.add(11_000, 25_000);
  assert.equal(w.rate(), 1000);
});
