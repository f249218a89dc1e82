import assert from "node:assert/strict";
import { RunOutput } from "../../src/cli/run_output.ts";
import type { Io } from "../../src/cli/args.ts";
import type { ReportFile } from "../../src/report/report.ts";

const CLEAR = "\r\x1b[2K";

/** An Io that records stdout lines and everything written to stderr, in order. */
function fakeIo(terminal: boolean, columns = 60) {
  const out: string[] = [];
  let err = "";
  const io: Io = {
    out: (t) => out.push(t),
    err: (t) => (err += t + "\n"),
    env: () => undefined,
    errRaw: (t) => (err += t),
    errIsTerminal: () => terminal,
    columns: () => columns,
  };
  return { io, out, err: () => err };
}

const FILE: ReportFile = {
  source: "/d/a",
  destination: "/up/a",
  status: "uploaded",
  size: 10,
  bytesSent: 10,
  attempts: 1,
  resumedFrom: [],
  worker: 1,
  durationMs: 5,
  verified: "size",
};

function drive(out: RunOutput, clock: { t: number }) {
  out.event({ type: "run-start", files: 2, bytes: 20, workers: 1, dryRun: false });
  clock.t = 300;
  out.event({ type: "progress", bytesSent: 5, bytesMoving: 5, connections: 1 });
  // The run's own line: escaped, never searched for the password (the uploader replaced it in
  // the server's words already), so a path holding it is not mangled.
  out.log!("failed: /up/b: 550 s3cret");
  out.event({ type: "file", file: FILE });
  clock.t = 400; // too soon after the last draw: not drawn
  out.event({ type: "progress", bytesSent: 15, bytesMoving: 5, connections: 1 });
  out.stop();
}

Deno.test(
  "live line: drawn in place, cleared before any other line and drawn again after, " +
    "no wider than the terminal, wiped at the end",
  () => {
    const { io, out, err } = fakeIo(true);
    const clock = { t: 0 };
    const o = new RunOutput(io, { verbose: true }, ["s3cret"], () => clock.t);
    drive(o, clock);
    const first = "progress: 0/2 files, 0 B of 20 B sent, ? B/s, ETA ?, 0 connections, 0 retries";
    const second = "progress: 0/2 files, 5 B of 20 B sent, ? B/s, ETA ?, 1 connection, 0 retries";
    const third = "progress: 1/2 files, 5 B of 20 B sent, ? B/s, ETA ?, 1 connection, 0 retries";
    assert.equal(
      err(),
      CLEAR + first.slice(0, 59) +
        CLEAR + second.slice(0, 59) +
        CLEAR + "failed: /up/b: 550 s3cret\n" + CLEAR + second.slice(0, 59) +
        CLEAR + "uploaded: /up/a (10 B, 0.01 s)\n" + CLEAR + third.slice(0, 59) +
        CLEAR,
    );
    assert.deepEqual(out, []);
  },
);

Deno.test("--json: every event but progress on stdout, no progress on stderr", () => {
  const { io, out, err } = fakeIo(true);
  const clock = { t: 0 };
  const o = new RunOutput(io, { json: true }, [], () => clock.t);
  drive(o, clock);
  o.end({
    type: "run-end",
    exitCode: 0,
    durationMs: 1,
    dryRun: false,
    totals: {
      files: 2,
      uploaded: 2,
      skipped: 0,
      planned: 0,
      missing: 0,
      failed: 0,
      bytes: 20,
      bytesSent: 20,
      reconnects: 0,
    },
    report: null,
  });
  assert.deepEqual(out.map((l) => JSON.parse(l).type), ["run-start", "file", "run-end"]);
  assert.equal(err(), "failed: /up/b: 550 s3cret\n");
});

Deno.test("--quiet: nothing on stderr while the run goes, not even its own lines", () => {
  const { io, out, err } = fakeIo(true);
  const clock = { t: 0 };
  const o = new RunOutput(io, { quiet: true, verbose: true }, [], () => clock.t);
  assert.equal(o.log, undefined);
  o.event({ type: "run-start", files: 2, bytes: 20, workers: 1, dryRun: false });
  o.event({ type: "progress", bytesSent: 5, bytesMoving: 5, connections: 1 });
  o.event({ type: "file", file: FILE });
  o.stop();
  assert.equal(err(), "");
  assert.deepEqual(out, []);
});

Deno.test("not a terminal: no live line, lines as they come", () => {
  const { io, err } = fakeIo(false);
  const clock = { t: 0 };
  const o = new RunOutput(io, { verbose: true }, [], () => clock.t);
  drive(o, clock);
  assert.equal(err(), "failed: /up/b: 550 s3cret\nuploaded: /up/a (10 B, 0.01 s)\n");
});

Deno.test(
  "live line: a skipped file is done and leaves what there is to send; the ETA counts " +
    "finished files and how far the others got",
  () => {
    const { io, err } = fakeIo(true, 200);
    const clock = { t: 0 };
    const o = new RunOutput(io, {}, [], () => clock.t);
    o.event({ type: "run-start", files: 3, bytes: 4096, workers: 1, dryRun: false });
    o.event({ type: "file", file: { ...FILE, status: "skipped", size: 1024, bytesSent: 0 } });
    o.event({ type: "file", file: { ...FILE, size: 1024, bytesSent: 1024 } });
    clock.t = 1000;
    o.event({ type: "progress", bytesSent: 1024, bytesMoving: 0, connections: 1 });
    clock.t = 2000;
    // 1 KiB of the last file went in the last second: 1 KiB/s, 1 KiB left of 3 KiB to send.
    o.event({ type: "progress", bytesSent: 2048, bytesMoving: 1024, connections: 1 });
    o.stop();
    const lines = err().split(CLEAR).filter((l) => l !== "");
    assert.equal(
      lines[lines.length - 1],
      "progress: 2/3 files, 2.0 KiB of 3.0 KiB sent, 1.0 KiB/s, ETA 1 s, 1 connection, 0 retries",
    );
  },
);
