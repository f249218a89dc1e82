import assert from "node:assert/strict";
import { connectRetryLine } from "../../src/report/run_messages.ts";

Deno.test("connect retry line: the reason, the attempt of how many, and the pause", () => {
  assert.equal(
    connectRetryLine({ error: "Connection refused", attempt: 2, of: 6, pauseMs: 1500 }),
    "could not connect: Connection refused; retrying (attempt 2 of 6, next in 1.5 s)",
  );
});
