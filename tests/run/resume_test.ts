/**
 * Fault injection against the embedded server: a broken connection must
 * cost a reconnect or a resume, never a file, and never a half-written file
 * that looks complete.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { Faults } from "../../src/server/embedded_server.ts";
import { compareTree, listTree } from "../helpers/dataset.ts";
import { upload, withDataset } from "../helpers/embedded.ts";
import { integrationTest } from "../helpers/kit.ts";

const MiB = 1024 * 1024;

/** One run of `count` files against a server with `faults`; what came of it. */
async function scenario(opts: {
  faults: Faults;
  count: number;
  sizeOf: (i: number) => number;
  options?: Record<string, unknown>;
  workerUrl?: URL;
}) {
  const { faults, workerUrl, ...dataset } = opts;
  const options = { retries: 4, backoffBaseMs: 20, backoffMaxMs: 200, ...opts.options };
  return await withDataset({ ...dataset, options }, { faults }, async ({ server, data }) => ({
    outcome: await upload(data, { workerUrl }),
    server,
    mismatches: await compareTree(server.root, data.expected),
    tree: await listTree(server.root),
  }));
}

/**
 * One file of `size` bytes over one connection to a server with `faults`: it must arrive
 * byte-exact and be reported `uploaded`; `file` is its report entry.
 */
async function oneFile(size: number, faults: Faults, options: Record<string, unknown> = {}) {
  const run = await scenario({
    faults,
    count: 1,
    sizeOf: () => size,
    options: { workers: 1, ...options },
  });
  assert.deepEqual(run.mismatches, []);
  const file = run.outcome.report.files[0];
  assert.equal(file.status, "uploaded");
  assert.equal(run.outcome.exitCode, 0);
  return { ...run, file };
}

integrationTest(
  "data connection cut at an exact byte: resumed with REST+STOR at that byte, identical",
  async () => {
    // Large enough that loopback socket buffers (the client writes a few MiB past a
    // reset before it notices) stay inside the 10% margin.
    const cut = 10 * MiB + 12345;
    const { server, tree, file: f } = await oneFile(64 * MiB, {
      cutDataAt: { byte: cut, times: 1 },
    });
    assert.deepEqual(f.resumedFrom, [cut]);
    assert.equal(f.attempts, 2);
    assert.ok(f.bytesSent < 1.1 * f.size, `bytesSent ${f.bytesSent}`);
    assert.ok(server.stats.commands.includes(`REST ${cut}`));
    assert.equal(tree.length, 1, "temporary file renamed away");
  },
);

integrationTest("server refuses REST: resume falls back to APPE, identical", async () => {
  const cut = 5 * MiB + 7;
  const { server, file: f } = await oneFile(64 * MiB, {
    cutDataAt: { byte: cut, times: 1 },
    refuseRest: true,
  });
  assert.deepEqual(f.resumedFrom, [cut]);
  assert.ok(f.bytesSent < 1.1 * f.size);
  assert.ok(server.stats.commands.some((c) => c.startsWith("APPE ")));
});

integrationTest(
  "server refuses REST and APPE: full re-send, still identical and verified",
  async () => {
    const cut = 4 * MiB;
    const { server, file: f } = await oneFile(16 * MiB, {
      cutDataAt: { byte: cut, times: 1 },
      refuseRest: true,
      refuseAppe: true,
    });
    assert.deepEqual(f.resumedFrom, []);
    assert.ok(f.bytesSent >= f.size + cut && f.bytesSent < 2 * f.size, `bytesSent ${f.bytesSent}`);
    assert.equal(server.stats.commands.filter((c) => c.startsWith("STOR ")).length, 2);
  },
);

integrationTest(
  "control connection closed during transfers: reconnect, resume, every file identical",
  async () => {
    const { outcome, mismatches } = await scenario({
      faults: { closeControlOnStore: { after: 2, times: 3 } },
      count: 12,
      sizeOf: (i) => (i % 3 === 0 ? 2 * MiB : 50_000),
      options: { workers: 2 },
    });
    assert.deepEqual(mismatches, []);
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.report.totals.uploaded, 12);
    assert.ok(
      outcome.report.totals.reconnects >= 3,
      `reconnects ${outcome.report.totals.reconnects}`,
    );
  },
);

integrationTest(
  "server allows 2 connections, run asks for 8: carries on with fewer, no file failed",
  async () => {
    const { outcome, server, mismatches } = await scenario({
      faults: { maxConnections: 2 },
      count: 40,
      sizeOf: () => 20_000,
      options: { workers: 8 },
    });
    assert.deepEqual(mismatches, []);
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.report.totals.uploaded, 40);
    assert.equal(outcome.report.totals.failed, 0);
    assert.ok(server.stats.peakConnections <= 2);
    for (const f of outcome.report.files) assert.ok(f.attempts >= 1);
  },
);

integrationTest(
  "a worker crash loses nothing: every file uploaded exactly once in the report",
  async () => {
    const { outcome, mismatches, tree } = await scenario({
      faults: {},
      count: 30,
      sizeOf: (i) => 10_000 + i,
      options: { workers: 3 },
      workerUrl: new URL("../helpers/crashing_worker.ts", import.meta.url),
    });
    assert.deepEqual(mismatches, []);
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.report.files.length, 30);
    assert.equal(outcome.report.totals.uploaded, 30);
    assert.equal(new Set(outcome.report.files.map((f) => f.destination)).size, 30);
    assert.equal(tree.length, 30);
    // Worker 1 crashed after its third result; a replacement worker (id > 3) took over.
    assert.ok(outcome.report.files.some((f) => f.worker > 3));
  },
);

integrationTest(
  "a leftover temporary file of the same content is resumed by the next run",
  async () => {
    const dataset = { count: 1, sizeOf: () => 5 * MiB, options: { workers: 1, retries: 0 } };
    const faults = { cutDataAt: { byte: 2 * MiB, times: 1 } };
    await withDataset(dataset, { faults }, async ({ server, data }) => {
      const first = await upload(data);
      assert.equal(first.exitCode, 1, "no retries: the cut fails the file");
      assert.equal(first.report.files[0].status, "failed");
      const leftovers = (await listTree(server.root)).filter((p) => p.includes(".ftpbatch-"));
      assert.equal(leftovers.length, 1);
      assert.equal((await Deno.stat(join(server.root, leftovers[0]))).size, 2 * MiB);

      const second = await upload(data);
      assert.equal(second.exitCode, 0);
      const f = second.report.files[0];
      assert.deepEqual(f.resumedFrom, [2 * MiB]);
      assert.ok(f.bytesSent < 1.1 * (5 * MiB - 2 * MiB), `bytesSent ${f.bytesSent}`);
      assert.deepEqual(await compareTree(server.root, data.expected), []);
      assert.equal((await listTree(server.root)).length, 1);
    });
  },
);

integrationTest(
  'verify "hash": a same-size corruption is caught by XSHA256 and re-sent from byte 0',
  async () => {
    const { server, file: f } = await oneFile(300_000, {
      offerHash: true,
      corruptStore: { times: 1 },
    }, { verify: "hash" });
    assert.equal(f.attempts, 2);
    assert.equal(f.bytesSent, 2 * f.size);
    assert.equal(server.stats.commands.filter((c) => c.startsWith("XSHA256 ")).length, 2);
  },
);

integrationTest(
  'verify "size" alone cannot see a same-size corruption (why "hash" exists)',
  async () => {
    const { outcome, mismatches } = await scenario({
      faults: { offerHash: true, corruptStore: { times: 1 } },
      count: 1,
      sizeOf: () => 1000,
      options: { workers: 1 },
    });
    assert.equal(outcome.report.files[0].status, "uploaded");
    assert.equal(mismatches.length, 1);
  },
);
