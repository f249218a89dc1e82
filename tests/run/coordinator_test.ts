import assert from "node:assert/strict";
import { join } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { startEmbeddedServer } from "../../src/server/embedded_server.ts";
import { compareTree, listTree, makeDataset } from "../helpers/dataset.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };

Deno.test({
  name: "300 files to the embedded server: bytes identical, 2 missing reported, exit 1",
  ...integration,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "ftpbatch-root-" });
    const server = await startEmbeddedServer({ root, port: 0, user: "u", password: "secret-pw" });
    try {
      const data = await makeDataset({
        count: 300,
        missing: 2,
        server: {
          host: server.host,
          port: server.port,
          user: "u",
          passwordEnv: "FTPBATCH_TEST_PW",
        },
        options: { workers: 4, retries: 1, backoffBaseMs: 50 },
      });
      const config = await loadConfig(data.configPath);
      const outcome = await runUpload({ config, password: "secret-pw" });
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
      assert.deepEqual(await compareTree(root, data.expected), []);
      // Only what the config asked for: no temporary files left behind.
      const tree = await listTree(root);
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
      await Deno.remove(data.dir, { recursive: true });
    } finally {
      await server.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "non-atomic mode writes straight to the destination and overwrites",
  ...integration,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "ftpbatch-root-" });
    const server = await startEmbeddedServer({ root, port: 0 });
    try {
      const data = await makeDataset({
        count: 5,
        server: { host: server.host, port: server.port },
        options: { workers: 2, atomic: false },
      });
      // An older, longer file at a destination must be replaced, not kept in part.
      const [firstDest] = data.expected.keys();
      await Deno.mkdir(join(root, firstDest, ".."), { recursive: true });
      await Deno.writeFile(join(root, firstDest), new Uint8Array(100_000).fill(7));
      const outcome = await runUpload({ config: await loadConfig(data.configPath) });
      assert.equal(outcome.exitCode, 0);
      assert.equal(outcome.report.totals.uploaded, 5);
      assert.deepEqual(await compareTree(root, data.expected), []);
      assert.ok(!server.stats.commands.some((c) => c.startsWith("RNFR")));
      await Deno.remove(data.dir, { recursive: true });
    } finally {
      await server.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "wrong password: exit 3, nothing stored, every file failed with the login reason",
  ...integration,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "ftpbatch-root-" });
    const server = await startEmbeddedServer({ root, port: 0, user: "u", password: "right" });
    try {
      const data = await makeDataset({
        count: 3,
        server: { host: server.host, port: server.port, user: "u", password: "wrong-pw" },
        options: { workers: 2, retries: 2, backoffBaseMs: 10 },
      });
      const outcome = await runUpload({
        config: await loadConfig(data.configPath),
        password: "wrong-pw",
      });
      assert.equal(outcome.exitCode, 3);
      assert.equal(outcome.report.totals.failed, 3);
      assert.match(outcome.report.files[0].error ?? "", /could not connect/);
      assert.deepEqual(await listTree(root), []);
      assert.ok(!JSON.stringify(outcome.report).includes("wrong-pw"));
      await Deno.remove(data.dir, { recursive: true });
    } finally {
      await server.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});

Deno.test({
  name: "a server that answers OPTS UTF8 ON with 501 still gets UTF-8 names, in NFC",
  ...integration,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "ftpbatch-root-" });
    const server = await startEmbeddedServer({ root, port: 0, faults: { rejectOptsUtf8: true } });
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-data-" });
    try {
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
      assert.equal(await Deno.readTextFile(join(root, "日本語", nfc)), "naïve ☕\n");
      assert.equal(outcome.report.files[0].destination, `/日本語/${nfc}`);
    } finally {
      await server.close();
      await Deno.remove(root, { recursive: true });
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "a remote folder that cannot be created fails only the files below it, with the reason",
  ...integration,
  async fn() {
    const root = await Deno.makeTempDir({ prefix: "ftpbatch-root-" });
    const server = await startEmbeddedServer({ root, port: 0 });
    try {
      const data = await makeDataset({
        count: 12,
        server: { host: server.host, port: server.port },
        options: { workers: 3, retries: 1, backoffBaseMs: 10 },
      });
      // A file where the run needs the folder /upload/plain/d1.
      await Deno.mkdir(join(root, "upload", "plain"), { recursive: true });
      await Deno.writeTextFile(join(root, "upload", "plain", "d1"), "in the way");
      const outcome = await runUpload({ config: await loadConfig(data.configPath) });
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
      assert.deepEqual(await compareTree(root, expected), []);
      await Deno.remove(data.dir, { recursive: true });
    } finally {
      await server.close();
      await Deno.remove(root, { recursive: true });
    }
  },
});
