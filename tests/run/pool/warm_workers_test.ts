/**
 * Workers started during the skip phase (`src/run/pool/warm_workers.ts`): adopted
 * under their names, never logged in when nothing is sent, and a worker that
 * fails to load while warm is a crash the pool handles, not the end of the
 * process.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEarly, WarmWorkers, warmWorkers } from "../../../src/run/pool/warm_workers.ts";
import { compareTree } from "../../helpers/dataset.ts";
import { upload, withDataset } from "../../helpers/embedded.ts";
import { integrationTest, withTempDir } from "../../helpers/kit.ts";

const WORKER = new URL("../../../workers/upload_worker.ts", import.meta.url);

Deno.test("warm workers: each name taken once, in the pool's names", () => {
  const warm = new WarmWorkers(WORKER, 2);
  try {
    assert.equal(warm.take(3), undefined);
    const first = warm.take(1);
    assert.ok(first);
    assert.equal(warm.take(1), undefined);
    first.worker.terminate();
  } finally {
    warm.close();
  }
});

Deno.test("the worker started early (main.ts) is the run's first, and the rest follow", () => {
  startEarly(WORKER);
  const first = warmWorkers(WORKER, 3);
  try {
    assert.equal(first.count, 3);
    // Started before the run asked: there at once (the others follow, one per event-loop turn).
    const one = first.take(1);
    assert.ok(one);
    one.worker.terminate();
  } finally {
    first.close();
  }
  // Taken once: the next run starts its own.
  const second = warmWorkers(WORKER, 1);
  assert.notEqual(second, first);
  second.close();
});

integrationTest(
  "warm worker that fails to load: a crash the pool handles, the run ends",
  async () => {
    await withTempDir("ftpbatch-warm-", async (dir) => {
      const broken = join(dir, "broken_worker.ts");
      await Deno.writeTextFile(broken, 'throw new Error("broken at load");\n');
      await withDataset(
        { count: 3, sizeOf: () => 100, options: { workers: 2, retries: 0 } },
        {},
        async ({ server, data }) => {
          const outcome = await upload(data, { workerUrl: new URL(`file://${broken}`) });
          assert.notEqual(outcome.exitCode, 0);
          assert.equal(outcome.summary.totals.uploaded, 0);
          assert.equal(outcome.summary.totals.failed, 3);
          // Nothing was stored: the workers never got as far as a login.
          assert.equal(server.stats.commands.filter((c) => c.startsWith("STOR")).length, 0);
        },
      );
    });
  },
);

integrationTest("everything already there: the warm workers never log in", async () => {
  await withDataset({ count: 6, sizeOf: (i) => 1000 + i }, {}, async ({ server, data }) => {
    const first = await upload(data);
    assert.equal(first.exitCode, 0);
    assert.deepEqual(await compareTree(server.root, data.expected), []);
    const logins = server.stats.logins;
    const again = await upload(data);
    assert.equal(again.exitCode, 0);
    assert.equal(again.summary.totals.skipped, 6);
    // The skip phase's one login, none for the workers started beside it.
    assert.equal(server.stats.logins - logins, 1);
  });
});
