/**
 * The product against a real Debian FTP server (vsftpd on loopback): the
 * main job through the command line, and SIGTERM mid-file then a second run.
 * The per-IP limit and the server killed mid-file are matrix tests (matrix.ts),
 * run against every server.
 * Ignored (the reason in the test name) where vsftpd is not installed (see real_server.ts).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { cli, sigtermMidFile } from "../cli/cli_process.ts";
import { compareTree, listTree, withData } from "../helpers/dataset.ts";
import { realServerTest } from "../helpers/real_server.ts";
import { serverSection } from "./matrix.ts";

const MiB = 1024 * 1024;

realServerTest(
  "real server: 300-file config through the CLI: exit 1, 2 missing, the rest byte-identical",
  { kind: "vsftpd" },
  async (server) => {
    const options = { workers: 4, report: "report.json" };
    await withData(
      { count: 300, missing: 2, server: serverSection(server), options },
      async (data) => {
        const r = await cli(["upload", data.configPath], { FTPBATCH_TEST_PW: server.password });
        assert.equal(r.code, 1, r.stderr);
        const report = JSON.parse(await Deno.readTextFile(join(data.dir, "report.json")));
        assert.equal(report.totals.uploaded, 300);
        assert.equal(report.totals.missing, 2);
        assert.equal(report.totals.failed, 0);
        // The report lists files as they were decided (version 2): back to config positions.
        const { files } = JSON.parse(await Deno.readTextFile(data.configPath));
        const at = new Map(
          files.map((f: { destination: string }, i: number) => [f.destination, i]),
        );
        assert.deepEqual(
          report.files.flatMap((f: { status: string; destination: string }) =>
            f.status === "missing" ? [at.get(f.destination)] : []
          ).sort((a: number, b: number) => a - b),
          data.missing,
        );
        assert.deepEqual(await compareTree(server.root, data.expected), []);
        const tree = await listTree(server.root);
        assert.equal(tree.length, 300, "nothing but the uploads, no temporary files");
        // Four connections did the work: four worker ids in the report, four sessions storing.
        const workers = new Set<number>(report.files.map((f: { worker: number }) => f.worker));
        assert.deepEqual([...workers].filter((w) => w > 0).sort(), [1, 2, 3, 4]);
        const storing = new Set(
          (await server.log()).split("\n").filter((l) => /"STOR /.test(l)).map((l) =>
            l.match(/\[pid (\d+)\]/)?.[1]
          ),
        );
        assert.ok(storing.size >= 4, `sessions that stored: ${storing.size}`);
        assert.ok(!r.stderr.includes(server.password));
      },
    );
  },
);

realServerTest(
  "real server: SIGTERM mid-file, exit 143; the next run sends < 1.1 x the remaining bytes",
  // Loopback socket buffers can hold tens of MiB that vsftpd drains after the client is
  // gone: the file is large enough that a good part is still missing after that.
  { kind: "vsftpd", maxRate: 16 * MiB },
  async (server) => {
    const size = 112 * MiB;
    const options = { workers: 1, report: "report.json" };
    const dataset = { count: 1, sizeOf: () => size, server: serverSection(server), options };
    await withData(dataset, async (data) => {
      const env = { FTPBATCH_TEST_PW: server.password };
      const { left } = await sigtermMidFile(server.root, data.configPath, { min: 4 * MiB, env });
      const report = JSON.parse(await Deno.readTextFile(join(data.dir, "report.json")));
      assert.equal(report.files[0].error, "interrupted");
      assert.ok(left > 0 && left < size);

      const again = await runUpload({
        config: await loadConfig(data.configPath),
        password: server.password,
      });
      assert.equal(again.exitCode, 0);
      const f = again.report.files[0];
      assert.deepEqual(f.resumedFrom, [left]);
      assert.ok(
        f.bytesSent < 1.1 * (size - left),
        `bytesSent ${f.bytesSent}, remaining ${size - left}`,
      );
      assert.deepEqual(await compareTree(server.root, data.expected), []);
    });
  },
);
