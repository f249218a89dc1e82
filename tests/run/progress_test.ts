import assert from "node:assert/strict";
import { connectRetryLine, progressLine } from "../../src/run/progress.ts";

Deno.test("progress line: counts in the right number, connections as given", () => {
  const line = progressLine({
    done: 3,
    total: 10,
    bytes: 2048,
    secs: 2,
    connections: 1,
    reconnects: 1,
  });
  assert.equal(line, "progress: 3/10 files, 2.0 KiB (1.0 KiB/s), 1 connection, 1 reconnect");
  assert.match(
    progressLine({ done: 0, total: 1, bytes: 0, secs: 0, connections: 0, reconnects: 2 }),
    /, 0 connections, 2 reconnects$/,
  );
});

Deno.test("connect retry line: the reason, the attempt of how many, and the pause", () => {
  assert.equal(
    connectRetryLine({ error: "Connection refused", attempt: 2, of: 6, pauseMs: 1500 }),
    "could not connect: Connection refused; retrying (attempt 2 of 6, next in 1.5 s)",
  );
});
