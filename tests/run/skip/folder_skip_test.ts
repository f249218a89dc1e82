/**
 * The skip phase of folder sources: a folder whose files span several
 * chunks is listed once per run, not once per chunk, over one connection.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runUpload } from "../../../src/run/coordinator.ts";
import { configFor, withServer } from "../../helpers/embedded.ts";
import { integrationTest, withTempDir } from "../../helpers/kit.ts";

integrationTest(
  "folder re-run: a folder of 600 files (3 chunks) is listed once; one login for the checks",
  () =>
    withTempDir("ftpbatch-", async (dir) => {
      for (const sub of ["big", "small"]) await Deno.mkdir(join(dir, sub));
      for (let i = 0; i < 600; i++) await Deno.writeTextFile(join(dir, "big", `f${i}.txt`), `${i}`);
      for (let i = 0; i < 5; i++) await Deno.writeTextFile(join(dir, "small", `g${i}.txt`), `${i}`);
      await withServer({}, async (server) => {
        const config = () => configFor(server, [{ source: `${dir}/`, destination: "/m/" }]);
        const first = await runUpload({ config: await config() });
        assert.equal(first.exitCode, 0);
        assert.equal(first.report.totals.uploaded, 605);
        const mark = server.stats.commands.length;
        const logins = server.stats.logins;
        const again = await runUpload({ config: await config() });
        assert.equal(again.exitCode, 0, JSON.stringify(again.summary.problems.slice(0, 3)));
        assert.equal(
          again.report.totals.skipped,
          605,
          JSON.stringify(again.report.files.slice(0, 3)),
        );
        const lists = server.stats.commands.slice(mark).filter((c) =>
          /^(MLSD|LIST|NLST)\b/.test(c)
        );
        // The embedded server lists the folder CWD went to: two folders, two listings.
        assert.equal(lists.length, 2, lists.join("; "));
        // One login for every chunk's check, besides the two workers'.
        assert.ok(server.stats.logins - logins <= 3, `${server.stats.logins - logins} logins`);
      });
    }),
);
