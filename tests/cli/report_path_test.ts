import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, cliTest, ended, LOGIN, spawnCli } from "./cli_process.ts";
import { sha256 } from "../helpers/dataset.ts";
import { untilCommand } from "../helpers/embedded.ts";

cliTest(
  "a report path that is a source, the config, a folder, a link or a device: exit 2, nothing sent or written",
  { count: 4 },
  async ({ server, data }) => {
    const config = JSON.parse(await Deno.readTextFile(data.configPath));
    const source = join(data.dir, config.files[1].source);
    const other = join(data.dir, "elsewhere.txt");
    await Deno.writeTextFile(other, "keep me");
    const link = join(data.dir, "link.json");
    await Deno.symlink(other, link);
    const linkedDir = join(data.dir, "linked-src");
    await Deno.symlink(join(source, ".."), linkedDir);
    const hardLink = join(data.dir, "hard.json");
    await Deno.link(source, hardLink);
    const before = new Map<string, string>();
    for (const p of [source, data.configPath, other]) before.set(p, await sha256(p));

    const cases: [string, RegExp][] = [
      [source, /is the source of files\[1\]/],
      [join(linkedDir, source.split("/").at(-1)!), /is the source of files\[1\]/],
      [hardLink, /same file as the source of files\[1\]/],
      [data.configPath, /is the config file/],
      [data.dir, /is a folder/],
      [link, /symbolic link/],
      ["/dev/null", /not a regular file/],
      [join(data.dir, "no-such-folder", "r.json"), /does not exist/],
    ];
    for (const [report, why] of cases) {
      for (const dry of [[], ["--dry-run"]]) {
        const r = await cli(["upload", data.configPath, "--report", report, ...dry]);
        assert.equal(r.code, 2, `${report} ${dry}: ${r.stderr}`);
        assert.match(r.stderr, why, report);
        assert.match(r.stderr, /^--report /, report);
      }
    }
    assert.deepEqual(server.stats.commands, []);
    for (const [p, hash] of before) assert.equal(await sha256(p), hash, p);
    assert.ok((await Deno.lstat(link)).isSymlink);
    assert.equal(await Deno.readTextFile(other), "keep me");

    // The same checks for options.report in the config, named as such.
    config.options = { report: config.files[0].source };
    await Deno.writeTextFile(data.configPath, JSON.stringify(config));
    const fromConfig = await cli(["upload", data.configPath, "--dry-run"]);
    assert.equal(fromConfig.code, 2, fromConfig.stderr);
    assert.match(fromConfig.stderr, /options\.report .*is the source of files\[0\]/);
    assert.deepEqual(server.stats.commands, []);
  },
);

cliTest(
  "a report that cannot be written at the end makes the exit code non-zero",
  { count: 1, sizeOf: () => 300_000 },
  async ({ server, data }) => {
    // Slow enough that the report's folder can be removed while the upload runs.
    const out = join(data.dir, "out");
    await Deno.mkdir(out);
    const child = spawnCli(["upload", data.configPath, "--report", join(out, "r.json")]);
    await untilCommand(server, "STOR");
    await Deno.remove(out, { recursive: true });
    const result = await ended(child);
    assert.match(result.stderr, /could not write the report/);
    assert.match(result.stderr, /1 file: 1 uploaded/); // the upload itself worked
    assert.equal(result.code, 1, result.stderr);
  },
  { server: { ...LOGIN, faults: { throttleBytesPerSecond: 100_000 } } },
);
