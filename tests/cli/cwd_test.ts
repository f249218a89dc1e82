import assert from "node:assert/strict";
import { join } from "node:path";
import { task } from "./cli_process.ts";
import { makeDataset } from "../helpers/dataset.ts";
import { integrationTest } from "../helpers/kit.ts";

integrationTest(
  "deno task upload: CONFIG and --report are relative to the folder it is run from",
  async () => {
    // Nothing listens on port 9: a dry run connects to nothing anyway.
    const data = await makeDataset({ count: 3, server: { host: "127.0.0.1", port: 9 } });
    const r = await task(
      ["upload", "config.json", "--dry-run", "--report", "report.json"],
      data.dir,
    );
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(await Deno.readTextFile(join(data.dir, "report.json")));
    assert.equal(report.totals.files, 3);
    assert.equal(report.dryRun, true);
    await Deno.remove(data.dir, { recursive: true });
  },
);
