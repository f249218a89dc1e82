/**
 * Shards 0..N-1 of one config against one embedded server, one after another
 * and all at once: every file uploaded exactly once, byte-identical, the
 * shared folders created without a failure, and the merged reports equal to
 * one unsharded run.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { mergeReports } from "../../src/report/merge.ts";
import type { Report, ReportFile } from "../../src/report/report.ts";
import { shardOf } from "../../src/plan/shard.ts";
import { compareTree, type Dataset, listTree, makeDataset } from "../helpers/dataset.ts";
import { withServer } from "../helpers/embedded.ts";
import type { EmbeddedServer } from "../../src/server/embedded_server.ts";
import { integrationTest } from "../helpers/kit.ts";

const N = 4;
const FILES = 120;

async function dataset(server: EmbeddedServer): Promise<Dataset> {
  return await makeDataset({
    count: FILES,
    missing: 2,
    server: { host: server.host, port: server.port },
    options: { workers: 2, retries: 1, backoffBaseMs: 50 },
  });
}

async function runShard(configPath: string, index: number | undefined): Promise<Report> {
  const config = await loadConfig(configPath);
  if (index !== undefined) config.options.shard = { index, count: N };
  const { report, exitCode } = await runUpload({ config });
  assert.equal(report.exitCode, exitCode);
  return report;
}

/** Checks the server's tree and what it was sent: every file once, nothing else. */
async function checkServer(server: EmbeddedServer, data: Dataset) {
  assert.deepEqual(await compareTree(server.root, data.expected), []);
  const tree = await listTree(server.root);
  assert.equal(tree.length, FILES, "only the config's files, no temporary ones");
  const stors = server.stats.commands.filter((c) => /^(STOR|APPE) /.test(c));
  assert.equal(stors.length, FILES, "each file sent exactly once");
  assert.equal(new Set(stors).size, FILES);
}

function checkShards(reports: Report[], data: Dataset) {
  const seen = new Set<string>();
  reports.forEach((r, index) => {
    assert.deepEqual(r.shard && { index: r.shard.index, count: r.shard.count }, {
      index,
      count: N,
    });
    assert.ok(r.files.length > 0, `shard ${index} has files`);
    for (const f of r.files) {
      assert.equal(shardOf(f.destination, N), index, `${f.destination} in shard ${index}`);
      assert.ok(!seen.has(f.destination), `${f.destination} in two shards`);
      seen.add(f.destination);
      if (f.status !== "missing") assert.equal(f.status, "uploaded", f.error);
    }
  });
  assert.equal(seen.size, FILES + data.missing.length, "union = every file of the config");
}

const essentials = (files: ReportFile[]) =>
  files
    .map((f) => [f.destination, f.source, f.status, f.size, f.bytesSent, f.attempts, f.error])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));

integrationTest(
  "shards 0..3 one after another: every file once; merged report = one unsharded run",
  async () => {
    let sharded: Report[] = [];
    let data!: Dataset;
    await withServer({}, async (server) => {
      data = await dataset(server);
      for (let k = 0; k < N; k++) sharded.push(await runShard(data.configPath, k));
      checkShards(sharded, data);
      await checkServer(server, data);
      // Later shards found the shared folders there: that is success, not a failure.
      const mkd = server.stats.commands.filter((c) => c === "MKD /upload");
      assert.equal(mkd.length, N, "each shard asked for /upload");
    });
    // The same config, unsharded, against a fresh server.
    const config = JSON.parse(await Deno.readTextFile(data.configPath));
    await withServer({}, async (server) => {
      config.server.port = server.port;
      await Deno.writeTextFile(data.configPath, JSON.stringify(config));
      const whole = await runShard(data.configPath, undefined);
      await checkServer(server, data);
      // Re-port the shard reports' server so they are reports "of the same server".
      sharded = sharded.map((r) => ({ ...r, server: whole.server }));
      const merged = mergeReports(sharded.map((report, k) => ({ name: `s${k}`, report })));
      assert.deepEqual(merged.totals, whole.totals);
      assert.deepEqual(essentials(merged.files), essentials(whole.files));
      assert.equal(merged.exitCode, whole.exitCode);
      assert.equal(merged.exitCode, 1, "2 missing sources");
    });
    await Deno.remove(data.dir, { recursive: true });
  },
);

integrationTest(
  "shards 0..3 at the same time: shared folders created race-free, every file once",
  async () => {
    await withServer({}, async (server) => {
      const data = await dataset(server);
      const reports = await Promise.all(
        [...Array(N).keys()].map((k) => runShard(data.configPath, k)),
      );
      checkShards(reports, data);
      for (const r of reports) {
        for (const f of r.files) assert.ok(!f.error?.includes("folder"), f.error);
      }
      await checkServer(server, data);
      // Several shards asked for the same folders (/upload at least): the race was there.
      const mkd = server.stats.commands.filter((c) => c === "MKD /upload");
      assert.ok(mkd.length >= 2, `MKD /upload sent ${mkd.length} times`);
      const merged = mergeReports(reports.map((report, k) => ({ name: `s${k}`, report })));
      assert.equal(merged.totals.uploaded, FILES);
      assert.equal(merged.totals.missing, 2);
      await Deno.remove(data.dir, { recursive: true });
    });
  },
);
