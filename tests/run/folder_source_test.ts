/**
 * Folder sources against the embedded server: the tree arrives byte-exact
 * with non-ASCII names (NFC), filters applied (exclude wins, an excluded
 * folder is not entered), empty folders created, symlinks skipped unless
 * followed (loops stopped); per-entry totals; shards split the walked files;
 * and the walk streams: the server sees a STOR before the walk yields its
 * last file (a hook, not timing).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { validateConfig } from "../../src/config/validate.ts";
import { ConfigError } from "../../src/config/errors.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { mergeReports } from "../../src/report/merge.ts";
import { summarize } from "../../src/report/summary.ts";
import {
  type EmbeddedServer,
  type EmbeddedServerOptions,
  nameBytes,
} from "../../src/server/embedded_server.ts";
import { parseConfig } from "../../src/config/load.ts";
import { CANNOT_SET_TIMES_NOTE, NOT_OLDER_REASON } from "../../src/plan/skip.ts";
import { compareTree, listTree } from "../helpers/dataset.ts";
import { configFor as configOn, withServer } from "../helpers/embedded.ts";
import { type FolderTree, makeFolderTree, TREE_EXCLUDE } from "../helpers/folder_tree.ts";
import { integrationTest } from "../helpers/kit.ts";

/** The config of these tests: three workers. */
function configFor(
  server: EmbeddedServer,
  files: unknown[],
  options: Record<string, unknown> = {},
) {
  return configOn(server, files, { workers: 3, ...options });
}

/** A fresh folder tree and a fresh embedded server (`opts`); the tree removed afterwards. */
async function withTree(
  fn: (tree: FolderTree, server: EmbeddedServer) => Promise<void>,
  opts: Partial<EmbeddedServerOptions> = {},
): Promise<void> {
  const tree = await makeFolderTree();
  try {
    await withServer(opts, (server) => fn(tree, server));
  } finally {
    await Deno.remove(join(tree.root, ".."), { recursive: true });
  }
}

function prefixed(map: Map<string, string>, prefix: string): Map<string, string> {
  return new Map([...map].map(([rel, local]) => [`${prefix}/${rel}`, local]));
}

async function isDir(path: string): Promise<boolean> {
  try {
    return (await Deno.stat(path)).isDirectory;
  } catch {
    return false;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch {
    return false;
  }
}

integrationTest(
  "folder source: tree with non-ASCII names, excludes, empty folders, symlinks skipped",
  async () => {
    const tree = await makeFolderTree();
    const extra = join(tree.root, "..", "extra.txt");
    await Deno.writeTextFile(extra, "listed next to a folder");
    await withServer({}, async (server) => {
      const config = await configFor(server, [
        { source: extra, destination: "/other/extra.txt" },
        // Without a trailing "/" on either side: the entry is a folder because its source is.
        { source: tree.root, destination: "/www" },
        { source: tree.root + "/", destination: "/filtered/", exclude: TREE_EXCLUDE },
      ]);
      const { report, exitCode } = await runUpload({ config });
      assert.equal(
        exitCode,
        0,
        JSON.stringify(report.files.filter((f) => f.status !== "uploaded")),
      );
      const filtered = prefixed(tree.expected, "/filtered");
      assert.deepEqual(await compareTree(server.root, filtered), []);
      for (const rel of tree.absent) {
        assert.ok(!(await exists(join(server.root, "filtered", rel))), `${rel} must not be sent`);
      }
      for (const d of tree.emptyFolders) {
        assert.ok(await isDir(join(server.root, "filtered", d)), `empty folder ${d} created`);
        assert.ok(await isDir(join(server.root, "www", d)), `empty folder ${d} created`);
      }
      // The unfiltered copy has the logs and node_modules, still no symlinks.
      assert.ok(await exists(join(server.root, "www/logs/old/x.log")));
      assert.ok(!(await exists(join(server.root, "www/link-to-index"))));
      assert.ok(!(await exists(join(server.root, "www/link-dir"))));
      // Names are NFC on the server, as for listed files.
      assert.ok(await exists(join(server.root, "filtered", "café menu.txt".normalize("NFC"))));
      assert.ok(!(await exists(join(server.root, "filtered", "cafe\u0301 menu.txt"))));

      // Report: files in config order, each folder's files at its entry; totals per entry.
      assert.equal(report.files[0].destination, "/other/extra.txt");
      const n = tree.expected.size;
      assert.ok(report.files.slice(-n).every((f) => f.destination.startsWith("/filtered/")));
      assert.equal(report.totals.uploaded, report.totals.files);
      assert.equal(report.totals.files, 1 + (n + 4) + n);
      const entries = report.entries ?? [];
      assert.deepEqual(entries.map((e) => [e.index, e.destination]), [[1, "/www"], [
        2,
        "/filtered",
      ]]);
      const f = entries[1];
      assert.equal(f.files, n);
      assert.equal(f.uploaded, n);
      assert.equal(f.failed + f.missing + f.skipped, 0);
      assert.equal(f.symlinks, tree.symlinks);
      assert.equal(f.emptyFolders, tree.emptyFolders.length);
      let bytes = 0;
      for (const local of tree.expected.values()) bytes += (await Deno.stat(local)).size;
      assert.equal(f.bytes, bytes);
      // Each remote folder asked for once per entry: walked folders are created on demand, once.
      const mkd = server.stats.commands.filter((c) => c.startsWith("MKD /filtered"));
      assert.equal(new Set(mkd).size, mkd.length, `MKD repeated: ${mkd.join(", ")}`);
    });
  },
);

integrationTest(
  "folder source: include keeps only matching files; exclude wins over include",
  async () => {
    await withTree(async (tree, server) => {
      const config = await configFor(server, [{
        source: tree.root,
        destination: "/t",
        include: ["**/*.txt", "**/*.log"],
        exclude: ["logs/**"],
      }]);
      const { report, exitCode } = await runUpload({ config });
      assert.equal(exitCode, 0);
      const got = await listTree(server.root);
      const want = [
        "t/deep/a/b/c/d.txt",
        "t/with space/a b.txt",
        "t/zero.txt",
        "t/café menu.txt".normalize("NFC"),
        "t/Документы/План работ.txt",
        "t/Документы/журнал.log",
        "t/日本語/ファイル 1.txt",
      ].sort();
      assert.deepEqual(got, want);
      assert.equal(report.entries?.[0].uploaded, want.length);
      // Empty folders that the include globs do not match are not created.
      assert.ok(!(await exists(join(server.root, "t/empty"))));
    });
  },
);

integrationTest(
  "folder source: followSymlinks follows links to files and folders, a loop once",
  async () => {
    const tree = await makeFolderTree();
    await Deno.symlink(tree.root, join(tree.root, "deep", "loop"));
    await withServer({}, async (server) => {
      const config = await configFor(server, [{
        source: tree.root,
        destination: "/s",
        followSymlinks: true,
        exclude: TREE_EXCLUDE,
      }]);
      const { report, exitCode } = await runUpload({ config });
      assert.equal(exitCode, 0);
      const remote = (p: string) => join(server.root, "s", p);
      assert.deepEqual(
        await Deno.readFile(remote("link-to-index")),
        await Deno.readFile(join(tree.root, "index.html")),
      );
      assert.deepEqual(
        await Deno.readFile(remote("link-dir/План работ.txt")),
        await Deno.readFile(join(tree.root, "Документы/План работ.txt")),
      );
      assert.ok(!(await exists(remote("deep/loop"))), "a link back up the tree is not followed");
      assert.equal(report.entries?.[0].symlinks, 1, "the loop is counted");
    });
  },
);

integrationTest(
  "folder source: uploading starts before the walk ends (streamed, not listed first)",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-stream-" });
    const FILES = 400;
    for (let d = 0; d < 8; d++) {
      await Deno.mkdir(join(dir, `d${d}`));
      for (let i = 0; i < FILES / 8; i++) {
        await Deno.writeTextFile(join(dir, `d${d}`, `f${i}.txt`), `${d}/${i}`);
      }
    }
    await withServer({}, async (server) => {
      const config = await configFor(server, [{ source: dir, destination: "/big" }], {
        workers: 2,
      });
      let yielded = 0;
      let storsWhenLastYielded = -1;
      const { report, exitCode } = await runUpload({
        config,
        walkHook: (item) => {
          if (item.kind !== "file") return;
          if (++yielded === FILES) {
            storsWhenLastYielded = server.stats.commands.filter((c) =>
              c.startsWith("STOR ")
            ).length;
          }
        },
      });
      assert.equal(exitCode, 0);
      assert.equal(report.totals.uploaded, FILES);
      assert.equal(yielded, FILES);
      // The pool pulls the next chunk (256 files) only when its queue runs low (64 a worker),
      // so the server has seen STORs before the walker yields the last file.
      assert.ok(storsWhenLastYielded >= 1, `STORs before the walk ended: ${storsWhenLastYielded}`);
      assert.equal((await listTree(server.root)).length, FILES);
    });
  },
);

integrationTest(
  "folder source: shards split the walked files by destination; merged = unsharded",
  async () => {
    await withTree(async (tree, server) => {
      const files = [{ source: tree.root, destination: "/sh", exclude: TREE_EXCLUDE }];
      const reports = [];
      for (let index = 0; index < 3; index++) {
        const config = await configFor(server, files);
        config.options.shard = { index, count: 3 };
        const { report, exitCode } = await runUpload({ config });
        assert.equal(exitCode, 0);
        reports.push(report);
      }
      const sent = reports.flatMap((r) => r.files.map((f) => f.destination)).sort();
      assert.deepEqual(sent, [...tree.expected.keys()].map((k) => `/sh/${k}`).sort());
      assert.ok(reports.filter((r) => r.files.length > 0).length >= 2, "spread over shards");
      assert.deepEqual(await compareTree(server.root, prefixed(tree.expected, "/sh")), []);
      for (const d of tree.emptyFolders) assert.ok(await isDir(join(server.root, "sh", d)));
      const stors = server.stats.commands.filter((c) => c.startsWith("STOR "));
      assert.equal(stors.length, tree.expected.size, "every file sent exactly once");
      const merged = mergeReports(reports.map((report, k) => ({ name: `r${k}`, report })));
      const single = await runUpload({ config: await configFor(server, files), dryRun: true });
      assert.equal(merged.totals.files, single.report.totals.files);
      assert.equal(merged.totals.uploaded, tree.expected.size);
      // Per-entry totals add up over the shards (each shard creates its share of empty folders).
      assert.equal(merged.entries?.[0].uploaded, tree.expected.size);
      assert.equal(merged.entries?.[0].emptyFolders, tree.emptyFolders.length);
      assert.equal(merged.entries?.[0].symlinks, tree.symlinks);
    });
  },
);

integrationTest(
  "folder source: files under a remote folder that cannot be created fail unsent, in every chunk",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-blocked-" });
    await Deno.writeTextFile(join(dir, "a.txt"), "a");
    await Deno.mkdir(join(dir, "blocked"));
    // More than one chunk (256 files) under the folder: later chunks ask for no new folder.
    const BLOCKED = 300;
    for (let i = 0; i < BLOCKED; i++) await Deno.writeTextFile(join(dir, "blocked", `f${i}`), "");
    await withServer({}, async (server) => {
      await Deno.mkdir(join(server.root, "w"));
      await Deno.writeTextFile(join(server.root, "w", "blocked"), "a file where a folder goes");
      const config = await configFor(server, [{ source: dir, destination: "/w" }]);
      const { report, exitCode } = await runUpload({ config });
      assert.equal(exitCode, 1);
      assert.equal(report.totals.uploaded, 1);
      assert.equal(report.totals.failed, BLOCKED);
      for (const f of report.files.filter((f) => f.status === "failed")) {
        assert.match(f.error ?? "", /could not create remote folder \/w\/blocked/);
        assert.equal(f.bytesSent, 0);
      }
      assert.equal(server.stats.commands.filter((c) => c.startsWith("STOR ")).length, 1);
      assert.equal(
        await Deno.readTextFile(join(server.root, "w", "blocked")),
        "a file where a folder goes",
      );
    });
  },
);

integrationTest(
  "folder source: SIGINT while the walk is still going: exit 130, what was uploaded is exact",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-int-" });
    const FILES = 700;
    for (let i = 0; i < FILES; i++) await Deno.writeTextFile(join(dir, `f${i}.txt`), `file ${i}`);
    await withServer({}, async (server) => {
      const config = await configFor(server, [{ source: dir, destination: "/i" }], { workers: 2 });
      const controller = new AbortController();
      let yielded = 0;
      const { report, exitCode } = await runUpload({
        config,
        signal: controller.signal,
        // The second chunk is being walked: uploads of the first are under way.
        walkHook: (item) => item.kind === "file" && ++yielded === 300 && controller.abort("SIGINT"),
      });
      assert.equal(exitCode, 130);
      assert.equal(report.interrupted, "SIGINT");
      assert.ok(yielded < FILES, "the walk stopped with the run");
      const uploaded = report.files.filter((f) => f.status === "uploaded");
      for (const f of uploaded) {
        const i = f.destination.slice("/i/f".length, -".txt".length);
        assert.equal(await Deno.readTextFile(join(server.root, f.destination)), `file ${i}`);
      }
      assert.ok(report.files.every((f) => f.status === "uploaded" || f.status === "failed"));
      // Every file the report calls uploaded is complete on the server. The other way round,
      // a file whose rename the server did just as the interrupt closed the connection is
      // complete but reported "interrupted" (at most one per connection).
      const done = new Set((await listTree(server.root)).filter((p) => !p.includes(".ftpbatch-")));
      for (const f of uploaded) assert.ok(done.has(f.destination.slice(1)), f.destination);
      assert.ok(
        done.size - uploaded.length <= 2,
        `${done.size} complete, ${uploaded.length} reported`,
      );
    });
  },
);

integrationTest(
  "folder source: the run's report and lock files inside the folder are not sent",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-own-" });
    await Deno.writeTextFile(join(dir, "a.txt"), "a");
    await Deno.writeTextFile(join(dir, "report.json"), "{}"); // an earlier run's report
    await Deno.writeTextFile(join(dir, "run.lock"), "");
    await withServer({}, async (server) => {
      const config = await configFor(server, [{ source: dir, destination: "/o" }], {
        report: join(dir, "report.json"),
        lock: join(dir, "run.lock"),
      });
      const { exitCode } = await runUpload({ config });
      assert.equal(exitCode, 0);
      assert.deepEqual(await listTree(server.root), ["o/a.txt"]);
    });
  },
);

integrationTest("folder source: a dry run walks the tree and connects to nothing", async () => {
  await withTree(async (tree, server) => {
    const config = await configFor(server, [{
      source: tree.root,
      destination: "/d",
      exclude: TREE_EXCLUDE,
    }]);
    const { report, exitCode } = await runUpload({ config, dryRun: true });
    assert.equal(exitCode, 0);
    assert.equal(report.totals.files, tree.expected.size);
    assert.equal(server.stats.logins, 0);
    assert.deepEqual(await listTree(server.root), []);
  });
});

Deno.test("folder source: filters on a source that is a file are a config error (exit 2 path)", async () => {
  const dir = await Deno.makeTempDir();
  const file = join(dir, "a.txt");
  await Deno.writeTextFile(file, "x");
  const config = await validateConfig({
    server: { host: "127.0.0.1", port: 1 },
    files: [
      { source: file, destination: "/a.txt" },
      { source: file, destination: "/in", exclude: ["*.log"] },
      { source: file + "/", destination: "/in2" },
    ],
  }, join(dir, "c.json"));
  await assert.rejects(() => runUpload({ config }), (e) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.problems.map((p) => p.path), ["files[1].exclude", "files[2].source"]);
    assert.match(e.message, /files\[1\]\.exclude: is only for folder sources/);
    return true;
  });
});

Deno.test("folder source: a folder found at run time overlapping another folder entry is a config error", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(join(dir, "a"));
  await Deno.mkdir(join(dir, "b"));
  const config = await validateConfig({
    server: { host: "127.0.0.1", port: 1 },
    files: [
      // As files these would be /www/a and /www/sub/b; as folders /www and /www/sub.
      { source: "a", destination: "/www/" },
      { source: "b", destination: "/www/sub/" },
    ],
  }, join(dir, "c.json"));
  await assert.rejects(() => runUpload({ config }), (e) => {
    assert.ok(e instanceof ConfigError);
    assert.deepEqual(e.problems.map((p) => p.path), ["files[1].destination"]);
    return true;
  });
});

integrationTest(
  "folder source on a cp1251 server: walked names sent as code-page bytes; 日本 fails unsent",
  async () => {
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-enc-tree-" });
    for (const rel of ["План.txt", "Папка/Отчёт.txt", "日本.txt", "日本/a.txt"]) {
      await Deno.mkdir(join(dir, rel, ".."), { recursive: true });
      await Deno.writeTextFile(join(dir, rel), rel);
    }
    await withServer({ port: 0, byteNames: true }, async (server) => {
      const config = await parseConfig(
        JSON.stringify({
          server: { host: server.host, port: server.port, encoding: "cp1251" },
          options: { workers: 2, retries: 1 },
          files: [{ source: dir, destination: "/d" }],
        }),
        "/nowhere/c.json",
      );
      const { report, exitCode } = await runUpload({ config });
      assert.equal(exitCode, 1);
      const byDest = new Map(report.files.map((f) => [f.destination, f]));
      assert.equal(byDest.get("/d/План.txt")?.status, "uploaded");
      assert.equal(byDest.get("/d/Папка/Отчёт.txt")?.status, "uploaded");
      for (const d of ["/d/日本.txt", "/d/日本/a.txt"]) {
        const f = byDest.get(d)!;
        assert.equal(f.status, "failed");
        assert.equal(f.bytesSent, 0);
        assert.match(
          f.error!,
          /not representable in the server's encoding \(server\.encoding cp1251\)/,
        );
      }
      const hex = (name: string) =>
        nameBytes(name).map((b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" ");
      const names = [...Deno.readDirSync(join(server.root, "d"))].map((e) => hex(e.name)).sort();
      assert.deepEqual(names, ["CF E0 EF EA E0", "CF EB E0 ED 2E 74 78 74"]);
      assert.ok(!server.stats.commands.some((c) => c.includes("?") || c.includes("日")));
    });
  },
);

/** STORs the server saw of files (the skip phase's time probe, a temporary name, left out). */
function fileStors(server: EmbeddedServer): number {
  return server.stats.commands.filter((c) => c.startsWith("STOR ") && !c.includes(PROBE)).length;
}
const PROBE = "ftpbatch-time-probe";

/**
 * The tree uploaded to /m, then again unchanged (a nightly mirror): the re-run sends nothing
 * and reports every file skipped. Returns the re-run and the config's files.
 *
 * The tree's local times are minutes old, so an upload's own time is in a later minute than
 * its source's (the embedded server's LIST shows minutes): only a server that was given the
 * local time matches it. This used to happen by chance (a minute turning between writing the
 * tree and uploading it), and then the re-run's time probe (a STOR) was counted as an upload.
 */
async function rerun(tree: FolderTree, server: EmbeddedServer, options = {}) {
  const past = new Date(Date.now() - 10 * 60_000);
  for (const local of tree.expected.values()) await Deno.utime(local, past, past);
  const files = [{ source: tree.root, destination: "/m", exclude: TREE_EXCLUDE }];
  assert.equal((await runUpload({ config: await configFor(server, files) })).exitCode, 0);
  const before = fileStors(server);
  const again = await runUpload({ config: await configFor(server, files, options) });
  assert.equal(again.exitCode, 0);
  assert.deepEqual(await compareTree(server.root, prefixed(tree.expected, "/m")), []);
  const reasons = [...new Set(again.report.files.map((f) => f.reason))];
  return { files, again, sent: fileStors(server) - before, reasons };
}

integrationTest(
  "folder source re-run (nightly mirror): nothing changed, no STOR; one file changed, one STOR",
  async () => {
    await withTree(async (tree, server) => {
      const { files, again, sent, reasons } = await rerun(tree, server);
      assert.equal(sent, 0, "an unchanged folder sends nothing");
      assert.equal(again.report.entries?.[0].skipped, tree.expected.size);
      // The server set each file's time (MFMT): the real rule decided, nothing was said.
      assert.ok(!server.stats.commands.some((c) => c.includes(PROBE)), "no probe needed");
      assert.deepEqual(reasons, ["unchanged: size+mtime"]);
      assert.equal(again.report.notes, undefined);
      const n = tree.expected.size;
      assert.match(summarize(again.report), new RegExp(`nothing to send: ${n} files unchanged`));
      const before = fileStors(server);
      const changed = tree.expected.get("Документы/План работ.txt")!;
      await Deno.writeTextFile(changed, "changed, and of another size");
      const third = await runUpload({ config: await configFor(server, files) });
      assert.equal(third.exitCode, 0);
      assert.equal(fileStors(server), before + 1, "only the changed file is sent");
      assert.equal(third.report.totals.uploaded, 1);
      assert.deepEqual(await compareTree(server.root, prefixed(tree.expected, "/m")), []);
    });
  },
);

integrationTest(
  "folder source re-run, server that cannot set times: all sent again, said once",
  async () => {
    await withTree(async (tree, server) => {
      const { again, sent } = await rerun(tree, server);
      assert.equal(sent, tree.expected.size);
      assert.deepEqual(again.report.notes, [CANNOT_SET_TIMES_NOTE]);
    }, { faults: { refuseSetTime: true } });
  },
);

integrationTest(
  'folder source re-run, server that cannot set times, "size+newer": nothing sent',
  async () => {
    await withTree(async (tree, server) => {
      const { again, sent, reasons } = await rerun(tree, server, { skip: "size+newer" });
      assert.equal(sent, 0, "an unchanged folder sends nothing");
      assert.ok(server.stats.commands.some((c) => c.includes(PROBE)), "the server was probed");
      assert.deepEqual(reasons, [NOT_OLDER_REASON]);
      assert.equal(again.report.totals.skipped, tree.expected.size);
    }, { faults: { refuseSetTime: true } });
  },
);
