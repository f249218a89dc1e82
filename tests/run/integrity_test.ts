/**
 * What a run proves about each file, against the embedded server: a source
 * rewritten during its upload fails, long names survive atomic mode, the
 * report says which check each file got and how many connections worked.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { type RunOutcome, runUpload } from "../../src/run/coordinator.ts";
import { summarize } from "../../src/report/summary.ts";
import type { Faults } from "../../src/server/embedded_server.ts";
import { bytesFor, listTree } from "../helpers/dataset.ts";
import { upload, withDataset, withServer } from "../helpers/embedded.ts";
import { integration, integrationTest, withTempDir } from "../helpers/kit.ts";

/**
 * Runs a config of the given files against a fresh embedded server (`during` runs
 * alongside), then `check` what came of it; everything removed afterwards.
 */
async function runFiles(
  files: { name: string; bytes: Uint8Array; destination: string }[],
  opts: {
    faults?: Faults;
    options?: Record<string, unknown>;
    during?: (dir: string) => Promise<void>;
  },
  check: (run: { outcome: RunOutcome; tree: string[]; root: string }) => Promise<void> | void,
): Promise<void> {
  await withServer(
    { faults: opts.faults },
    (server) =>
      withTempDir("ftpbatch-data-", async (dir) => {
        for (const f of files) await Deno.writeFile(join(dir, f.name), f.bytes);
        const configPath = join(dir, "config.json");
        await Deno.writeTextFile(
          configPath,
          JSON.stringify({
            server: { host: server.host, port: server.port },
            options: { workers: 1, retries: 2, backoffBaseMs: 50, ...opts.options },
            files: files.map((f) => ({ source: f.name, destination: f.destination })),
          }),
        );
        const config = await loadConfig(configPath);
        const [outcome] = await Promise.all([runUpload({ config }), opts.during?.(dir)]);
        await check({ outcome, tree: await listTree(server.root), root: server.root });
      }),
  );
}

for (const restoreMtime of [false, true]) {
  Deno.test({
    name: `a source rewritten in place (same size${
      restoreMtime ? ", mtime set back" : ""
    }) during its upload fails, never "uploaded"`,
    ...integration,
    async fn() {
      const size = 18 * 1024 * 1024;
      await runFiles(
        [{ name: "big.bin", bytes: bytesFor(1, size), destination: "/big.bin" }],
        {
          // 6 MiB/s: about three seconds of upload, time enough to change the file under it.
          faults: { throttleBytesPerSecond: 6 * 1024 * 1024 },
          async during(dir) {
            // Past the second the file was written in: Deno gives ctime to the second only.
            await new Promise((r) => setTimeout(r, 1100));
            const path = join(dir, "big.bin");
            const before = await Deno.stat(path);
            const f = await Deno.open(path, { write: true }); // no truncation: in place
            await f.write(bytesFor(2, size));
            f.close();
            if (restoreMtime) await Deno.utime(path, before.atime!, before.mtime!);
          },
        },
        ({ outcome, tree }) => {
          const [f] = outcome.report.files;
          assert.equal(f.status, "failed", JSON.stringify(f));
          assert.match(f.error ?? "", /changed during the run/);
          assert.equal(f.attempts, 1, "not retried");
          assert.equal(outcome.exitCode, 1);
          assert.ok(!tree.includes("big.bin"), "never renamed onto the destination");
        },
      );
    },
  });
}

integrationTest(
  "atomic mode: a 250-byte destination name lands intact (temp name within 255 bytes)",
  async () => {
    const name = "長".repeat(82) + ".bin"; // 246 + 4 = 250 bytes of UTF-8
    assert.equal(new TextEncoder().encode(name).length, 250);
    const bytes = bytesFor(3, 70_000);
    await runFiles(
      [{ name: "long.bin", bytes, destination: `/d/${name}` }],
      { options: { atomic: true } },
      async ({ outcome, tree, root }) => {
        assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.report.files));
        assert.deepEqual(tree, [`d/${name}`]);
        assert.deepEqual(await Deno.readFile(join(root, "d", name)), bytes);
      },
    );
  },
);

for (const offerHash of [true, false]) {
  Deno.test({
    name: `verify "hash": the report says which check each file got (server ${
      offerHash ? "with" : "without"
    } a hash command)`,
    ...integration,
    async fn() {
      await runFiles(
        [{ name: "a.bin", bytes: bytesFor(4, 5000), destination: "/a.bin" }],
        { faults: { offerHash }, options: { verify: "hash" } },
        ({ outcome }) => {
          const [f] = outcome.report.files;
          assert.equal(f.status, "uploaded");
          assert.equal(f.verified, offerHash ? "hash" : "size");
        },
      );
    },
  });
}

integrationTest(
  "the summary counts the connections that logged in, not the number asked for",
  async () => {
    const dataset = { count: 24, sizeOf: () => 20_000, options: { workers: 8, backoffBaseMs: 50 } };
    await withDataset(dataset, { faults: { maxConnections: 2 } }, async ({ data }) => {
      const outcome = await upload(data);
      assert.equal(outcome.exitCode, 0);
      assert.equal(outcome.report.workers, 2);
      assert.match(summarize(outcome.report), /over 2 connections/);
    });
  },
);
