/** `--skip RULE` and `--force` on the command line: checked before anything is read or sent. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli } from "./cli_process.ts";
import { makeDataset } from "../helpers/dataset.ts";

Deno.test("--skip takes size+mtime, size+newer, size, none or hash; --force goes only with none; else exit 2", async () => {
  for (
    const [args, message] of [
      [
        ["--skip", "mtime"],
        /--skip must be size\+mtime, size\+newer, size, none or hash, got "mtime"/,
      ],
      [["--skip", ""], /--skip must be/],
      [["--force", "--skip", "size"], /--force sends every file: it cannot go with --skip size/],
    ] as const
  ) {
    const r = await cli(["upload", "no-such-config.json", ...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, message);
  }
});

Deno.test("--skip and --force are accepted with a dry run; the files are planned", async () => {
  const data = await makeDataset({ count: 2, server: { host: "127.0.0.1", port: 21 } });
  try {
    for (const args of [["--skip", "size"], ["--force"], ["--force", "--skip", "none"]]) {
      const report = join(data.dir, "r.json");
      const r = await cli(["upload", data.configPath, "--dry-run", "--report", report, ...args]);
      assert.equal(r.code, 0, r.stderr);
      const json = JSON.parse(await Deno.readTextFile(report));
      assert.deepEqual([json.totals.planned, json.totals.skipped], [2, 0]);
    }
  } finally {
    await Deno.remove(data.dir, { recursive: true });
  }
});
