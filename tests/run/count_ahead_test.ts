/**
 * Progress knows the total early: with a folder source, the count-ahead
 * gives `progress` events the whole number of files and bytes long before
 * the walk gets there (without it the total grew in steps of 256).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runUpload } from "../../src/run/coordinator.ts";
import type { ProgressEvent } from "../../src/report/events.ts";
import { configFor, withServer } from "../helpers/embedded.ts";
import { integrationTest, withTempDir } from "../helpers/kit.ts";

integrationTest(
  "count-ahead: early progress events carry the folder's whole total (files and bytes)",
  () =>
    withTempDir("ftpbatch-", async (dir) => {
      await Deno.writeTextFile(join(dir, "listed.txt"), "12345");
      for (const sub of ["a", "b"]) {
        await Deno.mkdir(join(dir, "tree", sub), { recursive: true });
        for (let i = 0; i < 300; i++) {
          await Deno.writeTextFile(join(dir, "tree", sub, `f${i}.txt`), "x".repeat(i % 7));
        }
      }
      const total = {
        files: 601,
        bytes: 5 + 2 * [...Array(300).keys()].reduce((n, i) => n + (i % 7), 0),
      };
      await withServer({}, async (server) => {
        const config = await configFor(server, [
          { source: join(dir, "listed.txt"), destination: "/listed.txt" },
          { source: `${join(dir, "tree")}/`, destination: "/t/" },
        ], { skip: "none" });
        let done = 0;
        const early: ProgressEvent[] = [];
        const outcome = await runUpload({
          config,
          countAhead: true,
          onEvent: (e) => {
            if (e.type === "file") done++;
            if (e.type === "progress" && done < 256) early.push(e);
          },
        });
        assert.equal(outcome.report.totals.uploaded, 601);
        assert.ok(early.length > 0, "progress before the first 256 files were done");
        const known = early.filter((e) => e.files === total.files);
        assert.ok(known.length > 0, `totals seen early: ${early.map((e) => e.files).join(",")}`);
        assert.equal(known[0].bytes, total.bytes);
        // Never more than there is.
        assert.ok(early.every((e) => (e.files ?? 0) <= total.files));
      });
    }),
);
