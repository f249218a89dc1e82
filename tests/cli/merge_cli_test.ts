/**
 * `report merge` through the command line: shard reports of runs under other
 * settings are refused (the config digest), relative paths are the user's
 * (`INIT_CWD`), `--output` gets the report-path checks, and the merged report
 * streams out the same whether written to a file or printed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, task } from "./cli_process.ts";
import { integrationTest, withTempDir } from "../helpers/kit.ts";

/** `upload CONFIG --dry-run --shard K/2 --report OUT --quiet`. */
function dryShard(config: string, k: number, out: string) {
  return cli(["upload", config, "--dry-run", "--shard", `${k}/2`, "--report", out, "--quiet"]);
}

/** A folder source of 30 files, and a config for it (127.0.0.1:9 is never dialled: dry runs). */
async function setUp(dir: string, name: string, exclude: string[]): Promise<string> {
  await Deno.mkdir(join(dir, "site", "logs"), { recursive: true });
  for (let i = 0; i < 30; i++) await Deno.writeTextFile(join(dir, "site", `f${i}.txt`), `${i}`);
  await Deno.writeTextFile(join(dir, "site", "logs", "a.log"), "log");
  const path = join(dir, name);
  await Deno.writeTextFile(
    path,
    JSON.stringify({
      server: { host: "127.0.0.1", port: 9 },
      files: [{ source: "site/", destination: "/www/", exclude }],
    }),
  );
  return path;
}

integrationTest(
  "merge CLI: shards run with another exclude are refused; the same settings merge",
  () =>
    withTempDir("ftpbatch-merge-", async (dir) => {
      const plain = await setUp(dir, "a.json", []);
      const noLogs = await setUp(dir, "b.json", ["logs"]);
      const shard = async (config: string, k: number, out: string) => {
        const r = await dryShard(config, k, out);
        assert.equal(r.code, 0, r.stderr);
        return out;
      };
      const a0 = await shard(plain, 0, join(dir, "a0.json"));
      const a1 = await shard(plain, 1, join(dir, "a1.json"));
      const b1 = await shard(noLogs, 1, join(dir, "b1.json"));
      const mixed = await cli(["report", "merge", a0, b1]);
      assert.equal(mixed.code, 2, mixed.stderr);
      assert.match(mixed.stderr, /were run under different settings/);
      assert.equal(mixed.stdout, "");
      const ok = await cli(["report", "merge", a0, a1, "--output", join(dir, "all.json")]);
      assert.equal(ok.code, 0, ok.stderr);
      const all = JSON.parse(await Deno.readTextFile(join(dir, "all.json")));
      assert.equal(all.totals.planned, 31);
      assert.equal(all.files.length, 31);
      assert.equal(all.version, 2);
      // Printed: the same report.
      const printed = await cli(["report", "merge", a0, a1, "--quiet"]);
      assert.equal(printed.code, 0, printed.stderr);
      assert.deepEqual(JSON.parse(printed.stdout), all);
    }),
);

integrationTest(
  "merge CLI: relative paths from the user's folder (INIT_CWD); --output checked like --report",
  () =>
    withTempDir("ftpbatch-merge-", async (dir) => {
      const config = await setUp(dir, "a.json", []);
      for (const k of [0, 1]) {
        const r = await dryShard(config, k, join(dir, `s${k}.json`));
        assert.equal(r.code, 0, r.stderr);
      }
      // `deno task` runs in the project's folder; the user's folder is INIT_CWD.
      const merge = ["report", "merge", "s0.json", "s1.json", "--output", "out/all.json"];
      const first = await task([...merge, "--quiet"], dir);
      assert.equal(first.code, 2, first.stderr);
      assert.match(first.stderr, /--output .*out\/all\.json: its folder .*out does not exist/);
      await Deno.mkdir(join(dir, "out"));
      const r = await task([...merge, "--quiet"], dir);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(
        JSON.parse(await Deno.readTextFile(join(dir, "out", "all.json"))).totals.files,
        31,
      );

      const s0 = join(dir, "s0.json");
      const before = await Deno.readTextFile(s0);
      await Deno.symlink(join(dir, "elsewhere.json"), join(dir, "link.json"));
      for (
        const [output, message] of [
          ["s0.json", /is one of the reports being merged/],
          ["link.json", /is a symbolic link/],
          ["out", /is a folder/],
        ] as const
      ) {
        const bad = await task(["report", "merge", "s0.json", "s1.json", "--output", output], dir);
        assert.equal(bad.code, 2, `${output}: ${bad.stderr}`);
        assert.match(bad.stderr, message);
      }
      assert.equal(await Deno.readTextFile(s0), before, "the input report untouched");
      await assert.rejects(Deno.stat(join(dir, "elsewhere.json")), Deno.errors.NotFound);
    }),
);
