/**
 * Retry rules against a real vsftpd (tests/helpers/real_server.ts): an
 * outage is counted by time, a long name survives atomic mode, an untrusted
 * certificate stops at once. Ignored, with the reason, where vsftpd cannot
 * run; `FTPBATCH_REAL_SERVER=required` makes that a failure.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { bytesFor, compareTree, makeDataset } from "../helpers/dataset.ts";
import { type RealServer, realServerTest } from "../helpers/real_server.ts";

function login(server: RealServer, extra: Record<string, unknown> = {}) {
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    ...extra,
  };
}

realServerTest(
  "vsftpd stopped for 2 s mid-run with retries: 1: every file still uploads (outage by time)",
  { kind: "vsftpd", maxRate: 256 * 1024 },
  async (server) => {
    // 256 KiB/s per session: the 16 files take a few seconds over two connections.
    const data = await makeDataset({
      count: 16,
      sizeOf: (i) => 100_000 + i,
      server: login(server),
      options: { workers: 2, retries: 1, backoffBaseMs: 200, backoffMaxMs: 400 },
    });
    try {
      const config = await loadConfig(data.configPath);
      const outage = (async () => {
        await new Promise((r) => setTimeout(r, 800));
        await server.stop();
        await new Promise((r) => setTimeout(r, 2000));
        await server.start();
      })();
      const [outcome] = await Promise.all([
        runUpload({ config, password: server.password }),
        outage,
      ]);
      const failed = outcome.report.files.filter((f) => f.status !== "uploaded");
      assert.deepEqual(failed, []);
      assert.equal(outcome.exitCode, 0);
      assert.ok(outcome.report.totals.reconnects >= 1, "the outage was met");
      for (const f of outcome.report.files) assert.ok(f.attempts <= 2, JSON.stringify(f));
      assert.deepEqual(await compareTree(server.root, data.expected), []);
    } finally {
      await Deno.remove(data.dir, { recursive: true });
    }
  },
);

realServerTest(
  "vsftpd, atomic mode: a 250-byte destination name lands intact",
  { kind: "vsftpd" },
  async (server) => {
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-data-" });
    try {
      const name = "長".repeat(82) + ".bin"; // 250 bytes of UTF-8
      const bytes = bytesFor(7, 50_000);
      await Deno.writeFile(join(dir, "long.bin"), bytes);
      const configPath = join(dir, "config.json");
      await Deno.writeTextFile(
        configPath,
        JSON.stringify({
          server: login(server),
          options: { atomic: true, retries: 0 },
          files: [{ source: "long.bin", destination: `/${name}` }],
        }),
      );
      const outcome = await runUpload({
        config: await loadConfig(configPath),
        password: server.password,
      });
      assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.report.files));
      assert.deepEqual(await Deno.readFile(join(server.root, name)), bytes);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

realServerTest(
  "an untrusted TLS certificate is fatal at once (no retries), with the DENO_CERT hint",
  { kind: "vsftpd", tls: true },
  async (server) => {
    const data = await makeDataset({
      count: 3,
      server: login(server, { secure: true }),
      options: { workers: 1, retries: 5, backoffBaseMs: 2000 },
    });
    try {
      const outcome = await runUpload({
        config: await loadConfig(data.configPath),
        password: server.password,
      });
      assert.equal(outcome.exitCode, 3);
      assert.match(outcome.connectError ?? "", /DENO_CERT=\/path\/ca\.pem/);
      // One TLS handshake, not six.
      const handshakes = (await server.log()).match(/AUTH TLS/g) ?? [];
      assert.equal(handshakes.length, 1, `${handshakes.length} AUTH TLS`);
    } finally {
      await Deno.remove(data.dir, { recursive: true });
    }
  },
);
