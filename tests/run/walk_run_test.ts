/**
 * Folder walks through whole runs on the embedded server (issue 21 items 3,
 * 8, 10): include globs that match nothing warned on the log and in the
 * report; followSymlinks over folders linked twice each uploads each real
 * folder's files once; and where the server cannot set times, a same-size edit
 * whose time is older than the upload is sent (main's lenient rule skipped it).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { validateConfig } from "../../src/config/validate.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import type { EmbeddedServer } from "../../src/server/embedded_server.ts";
import { withServer } from "../helpers/embedded.ts";
import { makeLinkChain } from "../helpers/folder_tree.ts";
import { integrationTest, withTempDir } from "../helpers/kit.ts";

async function config(server: EmbeddedServer, entry: Record<string, unknown>, skip?: string) {
  return await validateConfig({
    server: { host: server.host, port: server.port },
    options: { workers: 2, retries: 1, backoffBaseMs: 50, ...(skip ? { skip } : {}) },
    files: [entry],
  }, "/nowhere/config.json");
}

/** The folder entry uploaded to a fresh embedded server: the run and the lines it logged. */
function walkRun(entry: Record<string, unknown>) {
  return withServer({}, async (server) => {
    const lines: string[] = [];
    const outcome = await runUpload({
      config: await config(server, entry),
      log: (l) => lines.push(l),
    });
    return { ...outcome, lines };
  });
}

integrationTest(
  "include globs that match no file: a warning in the log and the report's notes",
  () =>
    withTempDir("ftpbatch-inc-", async (dir) => {
      await Deno.mkdir(join(dir, "sub"));
      await Deno.writeTextFile(join(dir, "sub", "index.html"), "<p>");
      const { report, exitCode, lines } = await walkRun({
        source: dir + "/",
        destination: "/www/",
        include: ["sub", "**/*.HTML", "**/*.html"],
      });
      assert.equal(exitCode, 0);
      assert.deepEqual(report.files.map((f) => f.destination), ["/www/sub/index.html"]);
      const warned = [
        "files[0].include[0] matched no file",
        "files[0].include[1] matched no file",
      ];
      for (const w of warned) {
        assert.ok(report.notes?.some((n) => n.startsWith(w)), JSON.stringify(report.notes));
        assert.ok(lines.some((l) => l.startsWith(`warning: ${w}`)), lines.join("\n"));
      }
      assert.equal(report.notes?.filter((n) => /include\[2\]/.test(n)).length, 0);
    }),
);

integrationTest(
  "followSymlinks: 13 folders each with two links to the next upload 13 files, not 8,191",
  () =>
    withTempDir("ftpbatch-links-", async (dir) => {
      const top = await makeLinkChain(dir, 13);
      const { report, exitCode, lines } = await walkRun({
        source: top + "/",
        destination: "/www/",
        followSymlinks: true,
      });
      assert.equal(exitCode, 0);
      assert.equal(report.files.length, 13);
      assert.equal(report.files.filter((f) => f.status === "uploaded").length, 13);
      assert.ok(lines.some((l) => /b leads to a folder already walked through a/.test(l)));
      assert.ok(!lines.some((l) => /symlinks are not followed/.test(l)), lines.join("\n"));
    }),
);

integrationTest(
  "a symlink loop is said to be a loop, not 'symlinks are not followed'",
  () =>
    withTempDir("ftpbatch-loop-", async (dir) => {
      await Deno.mkdir(join(dir, "a"));
      await Deno.writeTextFile(join(dir, "a", "x.txt"), "x");
      await Deno.symlink(dir, join(dir, "a", "up"));
      const { exitCode, lines } = await walkRun({
        source: dir + "/",
        destination: "/w/",
        followSymlinks: true,
      });
      assert.equal(exitCode, 0);
      assert.deepEqual(lines.filter((l) => /symlink/.test(l)), [
        "files[0]: a/up is a symlink loop (it leads back to a folder above it); not followed",
      ]);
    }),
);

integrationTest(
  "a server that cannot set times: a same-size edit with an older time is sent (not skipped)",
  () =>
    withTempDir("ftpbatch-notimes-", async (dir) => {
      const file = join(dir, "data.csv");
      await Deno.writeTextFile(file, "a,b\n1,2\n");
      await withServer({ faults: { refuseSetTime: true } }, async (server) => {
        const cfg = await config(server, { source: dir + "/", destination: "/d/" });
        assert.equal((await runUpload({ config: cfg })).report.files[0].status, "uploaded");
        // Same size, other bytes, its time an hour in the past (copied in with `cp -p`):
        // the remote copy (upload time) is newer, so main's rule called it unchanged.
        await Deno.writeTextFile(file, "a,b\n3,4\n");
        const past = new Date(Date.now() - 3_600_000);
        await Deno.utime(file, past, past);
        const again = await runUpload({ config: cfg });
        assert.equal(again.report.files[0].status, "uploaded", JSON.stringify(again.report));
        assert.equal(await Deno.readTextFile(join(server.root, "d", "data.csv")), "a,b\n3,4\n");
        // Opted in, the lenient rule skips it, and says why.
        const lenient = await runUpload({
          config: await config(server, {
            source: dir + "/",
            destination: "/d/",
          }, "size+newer"),
        });
        assert.deepEqual(
          [lenient.report.files[0].status, (lenient.report.files[0] as { reason?: string }).reason],
          ["skipped", "unchanged: same size, remote copy not older"],
        );
      });
    }),
);
