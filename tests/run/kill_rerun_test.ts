/**
 * `kill -9` of ftpbatch in the middle of a run (no report, no cleanup, temporary
 * files half written), then a re-run: it converges, every file byte-exact and
 * no `.ftpbatch-*.part` file left behind.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { startEmbeddedServer } from "../../src/server/embedded_server.ts";
import { TEMP_MARK } from "../../src/upload/temp_name.ts";
import { compareTree, listTree, makeNamedDataset, UNICODE_NAMES } from "../helpers/dataset.ts";
import { integration, MAIN } from "../cli/cli_process.ts";

const KiB = 1024;

Deno.test({
  name: "kill -9 mid-run, then a re-run: converges, byte-exact, no temporary file left",
  ...integration,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "ftpbatch-root-" });
    // Slow enough to be caught mid-transfer: 1 MiB/s per upload.
    const server = await startEmbeddedServer({
      root,
      port: 0,
      faults: { throttleBytesPerSecond: 1024 * KiB },
    });
    const data = await makeNamedDataset({
      destinations: Array.from({ length: 24 }, (_, i) => `/k/${i} ${UNICODE_NAMES[i % 10]}`),
      sizeOf: (i) => (i % 3 === 0 ? 3 * KiB : 300 * KiB + i * 1000),
      server: { host: server.host, port: server.port },
      options: { workers: 3, retries: 3, backoffBaseMs: 50, backoffMaxMs: 200, timeoutMs: 5000 },
    });
    try {
      const child = new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "upload", data.configPath, "--quiet"],
        stdout: "null",
        stderr: "null",
        env: { NO_COLOR: "1" },
      }).spawn();
      // Killed once some files are done and others are half there.
      let tree: string[] = [];
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        tree = await listTree(root).catch(() => []);
        const done = tree.filter((p) => !p.includes(TEMP_MARK)).length;
        if (done >= 3 && tree.some((p) => p.includes(TEMP_MARK))) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      child.kill("SIGKILL");
      const status = await child.status;
      assert.equal(status.signal, "SIGKILL");
      assert.ok(tree.some((p) => p.includes(TEMP_MARK)), `killed mid-run: ${tree.join(", ")}`);
      assert.ok((await compareTree(root, data.expected)).length > 0, "not everything was there");

      const outcome = await runUpload({ config: await loadConfig(data.configPath) });
      assert.equal(outcome.exitCode, 0);
      assert.deepEqual(await compareTree(root, data.expected), []);
      assert.deepEqual((await listTree(root)).filter((p) => p.includes(TEMP_MARK)), []);
    } finally {
      await server.close();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(data.dir, { recursive: true });
    }
  },
});
