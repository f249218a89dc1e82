/**
 * A few fixed seeds of the soak (`tests/helpers/soak.ts`): random faults through
 * the fault proxy, against the embedded server and vsftpd. Every run must end,
 * no file reported uploaded may be wrong, no destination torn, the exit code
 * must match the report, and a clean re-run must complete with no temporary
 * file left. `deno task soak --seeds N` runs many more.
 */
import assert from "node:assert/strict";
import { seedLine, soakSeed } from "../helpers/soak.ts";
import { realServerCase } from "../helpers/real_server.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };

async function check(seed: number, server: "embedded" | "vsftpd") {
  const r = await soakSeed(seed, server);
  const line = seedLine(r);
  assert.ok(r.ended, line);
  assert.deepEqual(r.wrong, [], line);
  assert.deepEqual(r.torn, [], line);
  assert.deepEqual(r.problems, [], line);
  const faults = Object.values(r.faults).reduce((a, b) => a + b, 0);
  assert.ok(faults > 0, `no fault injected: ${line}`);
}

for (const seed of [11, 12, 14]) {
  Deno.test({
    name: `soak, embedded server, seed ${seed}: ends, nothing wrong or torn, a re-run completes`,
    ...integration,
    fn: () => check(seed, "embedded"),
  });
}

Deno.test(
  ...realServerCase("soak, vsftpd, seed 2: ends, nothing wrong or torn, a re-run completes"),
  () => check(2, "vsftpd"),
);
