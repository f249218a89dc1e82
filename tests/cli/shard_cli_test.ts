/**
 * `upload --shard`, the shard environment variables and `report merge`
 * through the command line, as a scheduler runs them.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { shardFromCli } from "../../src/cli/shard_flag.ts";
import { UsageError } from "../../src/cli/args.ts";
import { compareTree, listTree, makeDataset } from "../helpers/dataset.ts";
import { withServer } from "../helpers/embedded.ts";
import { integrationTest } from "../helpers/kit.ts";
import { cleanCli, taskPermissions } from "./cli_process.ts";

/** Runs main.ts with the permissions of the deno task for `command` (see deno.json). */
async function cli(args: string[], env: Record<string, string> = {}) {
  return cleanCli(await taskPermissions(args[0]), args, env);
}

const env = (vars: Record<string, string>) => (name: string) => vars[name];

Deno.test("shardFromCli: flag first, then FTPBATCH_SHARD_COUNT with an index; clear errors", () => {
  assert.deepEqual(shardFromCli("1/3", env({ FTPBATCH_SHARD_COUNT: "9" })), { index: 1, count: 3 });
  assert.equal(shardFromCli(undefined, env({})), undefined);
  // An indexed Job's index alone does not shard: the count says the config is split.
  assert.equal(shardFromCli(undefined, env({ JOB_COMPLETION_INDEX: "2" })), undefined);
  assert.deepEqual(
    shardFromCli(undefined, env({ FTPBATCH_SHARD_COUNT: "4", JOB_COMPLETION_INDEX: "2" })),
    { index: 2, count: 4 },
  );
  assert.deepEqual(
    shardFromCli(
      undefined,
      env({ FTPBATCH_SHARD_COUNT: "4", FTPBATCH_SHARD_INDEX: "3", JOB_COMPLETION_INDEX: "2" }),
    ),
    { index: 3, count: 4 },
  );
  const refused: [string | undefined, Record<string, string>, RegExp][] = [
    ["4/4", {}, /^--shard has K = 4, but shards of 4 are numbered 0 to 3/],
    ["two/4", {}, /^--shard must be K\/N/],
    [undefined, { FTPBATCH_SHARD_COUNT: "4" }, /neither FTPBATCH_SHARD_INDEX nor JOB_COMPLETION/],
    [undefined, { FTPBATCH_SHARD_INDEX: "1" }, /FTPBATCH_SHARD_COUNT is not/],
    [
      undefined,
      { FTPBATCH_SHARD_COUNT: "4", JOB_COMPLETION_INDEX: "7" },
      /JOB_COMPLETION_INDEX\/FTPBATCH_SHARD_COUNT \(7\/4\) has K = 7/,
    ],
    [undefined, { FTPBATCH_SHARD_COUNT: "x", FTPBATCH_SHARD_INDEX: "0" }, /must be K\/N/],
  ];
  for (const [flag, vars, message] of refused) {
    assert.throws(() => shardFromCli(flag, env(vars)), (e) => {
      assert.ok(e instanceof UsageError);
      assert.match(e.message, message);
      return true;
    });
  }
});

integrationTest(
  "CLI: bad shards are exit 2 with nothing sent; shard reports merge to the worst exit code",
  async () => {
    await withServer({ user: "u", password: "pw-shard" }, async (server) => {
      const data = await makeDataset({
        count: 40,
        missing: 1,
        server: { host: server.host, port: server.port, user: "u", passwordEnv: "FTPB_PW" },
        options: { workers: 2 },
      });
      const pw = { FTPB_PW: "pw-shard" };
      try {
        for (
          const [args, vars, message] of [
            [["--shard", "3/3"], {}, /--shard has K = 3/],
            [["--shard", "1"], {}, /--shard must be K\/N/],
            [[], { FTPBATCH_SHARD_COUNT: "3" }, /neither FTPBATCH_SHARD_INDEX nor/],
            [[], { FTPBATCH_SHARD_COUNT: "0", JOB_COMPLETION_INDEX: "0" }, /from 1 to/],
          ] as const
        ) {
          const r = await cli(["upload", data.configPath, ...args], { ...pw, ...vars });
          assert.equal(r.code, 2, r.stderr);
          assert.match(r.stderr, message);
        }
        assert.equal(server.stats.logins, 0, "nothing sent");

        // Shard 0 from --shard, shard 1 from FTPBATCH_SHARD_INDEX, shard 2 from JOB_COMPLETION_INDEX.
        const report = (k: number) => join(data.dir, `shard-${k}.json`);
        const runs = [
          cli(["upload", data.configPath, "--shard", "0/3", "--report", report(0)], pw),
          cli(["upload", data.configPath, "--report", report(1), "--quiet"], {
            ...pw,
            FTPBATCH_SHARD_COUNT: "3",
            FTPBATCH_SHARD_INDEX: "1",
          }),
          cli(["upload", data.configPath, "--report", report(2), "--quiet"], {
            ...pw,
            FTPBATCH_SHARD_COUNT: "3",
            JOB_COMPLETION_INDEX: "2",
          }),
        ];
        const results = await Promise.all(runs);
        const shards = await Promise.all(
          [0, 1, 2].map(async (k) => JSON.parse(await Deno.readTextFile(report(k)))),
        );
        shards.forEach((s, k) => {
          assert.equal(s.shard.index, k);
          assert.equal(s.shard.count, 3);
          assert.equal(s.exitCode, results[k].code, results[k].stderr);
        });
        assert.match(results[0].stderr, /^shard 0\/3: \d+ files/m);
        assert.deepEqual(await compareTree(server.root, data.expected), []);
        assert.equal((await listTree(server.root)).length, 40);
        // The one missing source makes exactly one shard exit 1; the merge exits 1 too.
        assert.deepEqual(results.map((r) => r.code).sort(), [0, 0, 1]);

        const merged = join(data.dir, "merged.json");
        const m = await cli([
          "report",
          "merge",
          report(2),
          report(0),
          report(1),
          "--output",
          merged,
        ]);
        assert.equal(m.code, 1, m.stderr);
        assert.equal(m.stdout, "");
        const all = JSON.parse(await Deno.readTextFile(merged));
        assert.equal(all.totals.files, 41);
        assert.equal(all.totals.uploaded, 40);
        assert.equal(all.totals.missing, 1);
        assert.equal(all.exitCode, 1);
        assert.deepEqual(all.merged.shards.map((s: { index: number }) => s.index), [0, 1, 2]);
        // Without --output: the same report on stdout.
        const printed = await cli(["report", "merge", report(0), report(1), report(2), "--quiet"]);
        assert.equal(printed.code, 1);
        assert.deepEqual(JSON.parse(printed.stdout), all);
        // All shards clean: exit 0. Drop the missing file's shard outcome by editing its report.
        const bad = shards.find((s) => s.exitCode === 1);
        bad.files = bad.files.filter((f: { status: string }) => f.status !== "missing");
        bad.exitCode = 0;
        await Deno.writeTextFile(report(bad.shard.index), JSON.stringify(bad));
        const clean = await cli(["report", "merge", report(0), report(1), report(2)]);
        assert.equal(clean.code, 0, clean.stderr);

        for (
          const [args, message] of [
            [[report(0), report(1)], /no report for shard 2\/3/],
            [[report(0), report(1), report(2), report(1)], /are both shard 1\/3/],
            [[report(0), join(data.dir, "none.json")], /cannot read the report/],
            [[data.configPath], /is not an ftpbatch report/],
            [[], /needs the shard reports/],
          ] as const
        ) {
          const r = await cli(["report", "merge", ...args]);
          assert.equal(r.code, 2, r.stderr);
          assert.match(r.stderr, message);
          assert.equal(r.stdout, "");
        }
        const noSub = await cli(["report", "combine", report(0)]);
        assert.equal(noSub.code, 2);
        assert.match(noSub.stderr, /report takes a subcommand/);
      } finally {
        await Deno.remove(data.dir, { recursive: true });
      }
    });
  },
);
