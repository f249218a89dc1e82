/**
 * Whole-process behaviour when a run is cut short: SIGTERM, and a server that
 * goes away for a few seconds mid-transfer.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { startEmbeddedServer } from "../../src/server/embedded_server.ts";
import { sigtermMidFile } from "../cli/cli_process.ts";
import { compareTree, listTree } from "../helpers/dataset.ts";
import { upload, withDataset } from "../helpers/embedded.ts";
import { integrationTest } from "../helpers/kit.ts";
import { partialSize, waitFor } from "../helpers/partial.ts";

const MiB = 1024 * 1024;

integrationTest(
  "SIGTERM mid-run: exit 143, report written, temp file left; next run resumes it",
  async () => {
    const dataset = { count: 1, sizeOf: () => 40 * MiB, options: { report: "report.json" } };
    const faults = { throttleBytesPerSecond: 4 * MiB };
    await withDataset(dataset, { faults }, async ({ server, data }) => {
      const { left } = await sigtermMidFile(server.root, data.configPath, { min: 2 * MiB });
      const report = JSON.parse(await Deno.readTextFile(join(data.dir, "report.json")));
      assert.equal(report.interrupted, "SIGTERM");
      assert.equal(report.files[0].status, "failed");
      assert.equal(report.files[0].error, "interrupted");
      assert.ok(left < 40 * MiB, "temporary file left for resume");

      server.faults.throttleBytesPerSecond = undefined;
      const again = await upload(data);
      assert.equal(again.exitCode, 0);
      const f = again.report.files[0];
      assert.deepEqual(f.resumedFrom, [left]);
      assert.ok(f.bytesSent < 1.1 * (40 * MiB - left), `bytesSent ${f.bytesSent}`);
      assert.deepEqual(await compareTree(server.root, data.expected), []);
      assert.equal((await listTree(server.root)).length, 1);
    });
  },
);

integrationTest(
  "server down for two seconds mid-transfer: reconnect with backoff, resume, identical",
  async () => {
    const options = { workers: 3, retries: 6, backoffBaseMs: 500, backoffMaxMs: 2000 };
    const dataset = { count: 3, sizeOf: () => 12 * MiB, options };
    const faults = { throttleBytesPerSecond: 8 * MiB };
    await withDataset(dataset, { faults }, async ({ server, data }) => {
      const run = upload(data);
      await waitFor("a partial upload", () => partialSize(server.root, 1 * MiB));
      await server.close();
      await new Promise((r) => setTimeout(r, 2000));
      const back = await startEmbeddedServer({ root: server.root, port: server.port });
      try {
        const outcome = await run;
        assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.report.files, null, 1));
        assert.equal(outcome.report.totals.uploaded, 3);
        assert.ok(outcome.report.totals.reconnects >= 1);
        assert.ok(outcome.report.files.some((f) => f.resumedFrom.length > 0));
        for (const f of outcome.report.files) assert.ok(f.bytesSent < 2 * f.size);
        assert.deepEqual(await compareTree(server.root, data.expected), []);
      } finally {
        await back.close();
      }
    });
  },
);
