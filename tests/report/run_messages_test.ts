/**
 * The run's other texts (`run_messages.ts`): the connect-retry notice, and why files
 * were not sent with which kind of failure that is: the kind is given with the
 * reason, never read back from its words.
 */
import assert from "node:assert/strict";
import { connectRetryLine, unsentReason } from "../../src/report/run_messages.ts";
import { Failure, unsentResult, type UploadJob } from "../../src/upload/job.ts";

Deno.test("connect retry line: the reason, the attempt of how many, and the pause", () => {
  assert.equal(
    connectRetryLine({ error: "Connection refused", attempt: 2, of: 6, pauseMs: 1500 }),
    "could not connect: Connection refused; retrying (attempt 2 of 6, next in 1.5 s)",
  );
});

const job: UploadJob = {
  id: 3,
  source: "/tmp/a.txt",
  destination: "/in/a.txt",
  size: 10,
  mtimeMs: 0,
};

Deno.test("unsentReason: interrupted once connected; not sent otherwise", () => {
  assert.deepEqual(unsentReason({ connected: true, interrupted: true }), {
    reason: "interrupted",
    failure: Failure.Interrupted,
  });
  assert.deepEqual(unsentReason({ connected: false, interrupted: true }), {
    reason: "not sent: could not connect or log in",
    failure: Failure.NotSent,
  });
  assert.deepEqual(unsentReason({ connected: true, interrupted: false, crash: "boom" }), {
    reason: "no connection left (worker failed: boom)",
    failure: Failure.NotSent,
  });
});

Deno.test("unsentResult: the failure kind is the one given, whatever the reason's words", () => {
  assert.equal(unsentResult(job, "interrupted").failure, Failure.NotSent);
  assert.equal(unsentResult(job, "stopped", Failure.Interrupted).failure, Failure.Interrupted);
  const r = unsentResult({ ...job, carried: { attempts: 2, bytesSent: 4, resumedFrom: [4] } }, "x");
  assert.deepEqual([r.status, r.error, r.attempts, r.bytesSent], ["failed", "x", 2, 4]);
});
