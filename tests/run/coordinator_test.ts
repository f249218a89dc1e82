/**
 * Whole runs against the embedded server: many files, missing sources, the
 * non-atomic mode, a refused login, a server refusing `OPTS UTF8`, a folder
 * that cannot be created.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { compareTree, listTree } from "../helpers/dataset.ts";
import { upload, withDataset, withServer } from "../helpers/embedded.ts";
import { integrationTest, withTempDir } from "../helpers/kit.ts";

integrationTest(
  "300 files to the embedded server: bytes identical, 2 missing reported, exit 1",
  async () => {
    await withDataset(
      {
        count: 300,
        missing: 2,
        server: { password: undefined, passwordEnv: "FTPBATCH_TEST_PW" },
        options: { workers: 4, retries: 1, backoffBaseMs: 50 },
      },
      { user: "u", password: "secret-pw" },
      async ({ server, data }) => {
        const outcome = await upload(data, { password: "secret-pw" });
        const { report } = outcome;
        assert.equal(outcome.exitCode, 1);
        assert.equal(report.totals.files, 302);
        assert.equal(report.totals.uploaded, 300);
        assert.equal(report.totals.missing, 2);
        assert.equal(report.totals.failed, 0);
        assert.deepEqual(
          report.files.flatMap((f, i) => f.status === "missing" ? [i] : []),
          data.missing,
        );
        for (const f of report.files.filter((f) => f.status === "uploaded")) {
          assert.equal(f.bytesSent, f.size);
          assert.equal(f.attempts, 1);
          assert.ok(f.worker >= 1 && f.worker <= 4);
        }
        assert.deepEqual(await compareTree(server.root, data.expected), []);
        // Only what the config asked for: no temporary files left behind.
        const tree = await listTree(server.root);
        assert.equal(tree.length, 300);
        assert.ok(tree.every((p) => !p.includes(".ftpbatch-")));
        assert.ok(server.stats.peakConnections >= 2, "several connections at once");
        assert.ok(server.stats.peakTransfers >= 2, "several transfers at once");
        assert.ok(JSON.stringify(report).indexOf("secret-pw") === -1);
        // Each remote folder created exactly once, by one connection.
        const mkd = server.stats.commands.filter((c) => c.startsWith("MKD "));
        const dirs = new Set(
          [...data.expected.keys()].flatMap((d) => {
            const parts = d.split("/").slice(1, -1);
            return parts.map((_, i) => "/" + parts.slice(0, i + 1).join("/"));
          }),
        );
        assert.equal(mkd.length, dirs.size);
        assert.deepEqual(new Set(mkd.map((c) => c.slice(4))), dirs);
      },
    );
  },
);

integrationTest("non-atomic mode writes straight to the destination and overwrites", async () => {
  const dataset = { count: 5, options: { workers: 2, atomic: false } };
  await withDataset(dataset, {}, async ({ server, data }) => {
    // An older, longer file at a destination must be replaced, not kept in part.
    const [firstDest] = data.expected.keys();
    await Deno.mkdir(join(server.root, firstDest, ".."), { recursive: true });
    await Deno.writeFile(join(server.root, firstDest), new Uint8Array(100_000).fill(7));
    const outcome = await upload(data);
    assert.equal(outcome.exitCode, 0);
    assert.equal(outcome.report.totals.uploaded, 5);
    assert.deepEqual(await compareTree(server.root, data.expected), []);
    assert.ok(!server.stats.commands.some((c) => c.startsWith("RNFR")));
  });
});

integrationTest(
  "wrong password: exit 3, nothing stored, every file failed with the login reason",
  async () => {
    await withDataset(
      {
        count: 3,
        server: { password: "wrong-pw" },
        options: { workers: 2, retries: 2, backoffBaseMs: 10 },
      },
      { user: "u", password: "right" },
      async ({ server, data }) => {
        const outcome = await upload(data, { password: "wrong-pw" });
        assert.equal(outcome.exitCode, 3);
        assert.equal(outcome.report.totals.failed, 3);
        assert.match(outcome.report.files[0].error ?? "", /could not connect/);
        assert.deepEqual(await listTree(server.root), []);
        assert.ok(!JSON.stringify(outcome.report).includes("wrong-pw"));
      },
    );
  },
);

integrationTest(
  "a server that answers OPTS UTF8 ON with 501 still gets UTF-8 names, in NFC",
  async () => {
    await withServer({ faults: { rejectOptsUtf8: true } }, async (server) => {
      await withTempDir("ftpbatch-data-", async (dir) => {
        const nfd = "Cafe\u0301 Пла\u0306н.txt"; // "Café Плйн" decomposed
        await Deno.writeTextFile(join(dir, "a.txt"), "naïve ☕\n");
        await Deno.writeTextFile(
          join(dir, "c.json"),
          JSON.stringify({
            server: { host: server.host, port: server.port },
            files: [{ source: "a.txt", destination: `/日本語/${nfd}` }],
          }),
        );
        const outcome = await runUpload({ config: await loadConfig(join(dir, "c.json")) });
        assert.equal(outcome.exitCode, 0);
        assert.ok(server.stats.commands.some((c) => c === "OPTS UTF8 ON"));
        const nfc = nfd.normalize("NFC");
        assert.equal(await Deno.readTextFile(join(server.root, "日本語", nfc)), "naïve ☕\n");
        assert.equal(outcome.report.files[0].destination, `/日本語/${nfc}`);
      });
    });
  },
);

integrationTest(
  "a remote folder that cannot be created fails only the files below it, with the reason",
  async () => {
    const dataset = { count: 12, options: { workers: 3, retries: 1, backoffBaseMs: 10 } };
    await withDataset(dataset, {}, async ({ server, data }) => {
      // A file where the run needs the folder /upload/plain/d1.
      await Deno.mkdir(join(server.root, "upload", "plain"), { recursive: true });
      await Deno.writeTextFile(join(server.root, "upload", "plain", "d1"), "in the way");
      const outcome = await upload(data);
      assert.equal(outcome.exitCode, 1);
      const blocked = outcome.report.files.filter((f) =>
        f.destination.startsWith("/upload/plain/d1/")
      );
      assert.ok(blocked.length > 0);
      for (const f of blocked) {
        assert.equal(f.status, "failed");
        assert.match(f.error ?? "", /could not create remote folder \/upload\/plain\/d1/);
      }
      const others = outcome.report.files.filter((f) => !blocked.includes(f));
      assert.ok(others.every((f) => f.status === "uploaded"));
      const expected = new Map(
        [...data.expected].filter(([d]) => !d.startsWith("/upload/plain/d1/")),
      );
      assert.deepEqual(await compareTree(server.root, expected), []);
    });
  },
);
