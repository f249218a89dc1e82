import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, cliTest, MAIN } from "./cli_process.ts";
import { compareTree, listTree, withData } from "../helpers/dataset.ts";
import { closedPort } from "../helpers/kit.ts";
import { integrationTest } from "../helpers/kit.ts";

Deno.test("--help documents commands and exit codes; no command is a usage error", async () => {
  const help = await cli(["--help"]);
  assert.equal(help.code, 0);
  for (
    const word of ["upload CONFIG", "serve ROOT", "demo", "--workers", "--dry-run", "Exit codes"]
  ) {
    assert.ok(help.stdout.includes(word), word);
  }
  assert.equal((await cli([])).code, 2);
  const bad = await cli(["upload", "a.json", "--workers", "zero"]);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--workers must be a whole number/);
});

cliTest(
  "config errors: exit 2, the JSON path named, no connection made",
  { count: 4 },
  async ({ server, data }) => {
    const config = JSON.parse(await Deno.readTextFile(data.configPath));
    config.files[3].destination = "/upload/../etc/passwd";
    config.files[1].source = "bad\nname";
    await Deno.writeTextFile(data.configPath, JSON.stringify(config));
    const r = await cli(["upload", data.configPath]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /files\[3\]\.destination/);
    assert.match(r.stderr, /files\[1\]\.source/);
    assert.equal(server.stats.logins, 0);
    assert.deepEqual(server.stats.commands, []);
    assert.ok(!r.stderr.includes("pw-53cr3t"));

    const broken = join(data.dir, "broken.json");
    await Deno.writeTextFile(broken, '{\n  "server": {\n    "host": "x",,\n  }\n}');
    const b = await cli(["upload", broken]);
    assert.equal(b.code, 2);
    assert.match(b.stderr, /line 3/);
    assert.match(b.stderr, /column/);
  },
);

cliTest(
  "passwordEnv: taken from the environment, never printed; unset is exit 2",
  {
    count: 3,
    missing: 0,
    options: { report: "out/report.json" },
    server: { password: undefined, passwordEnv: "FTPB_PW" },
  },
  async ({ server, data }) => {
    await Deno.mkdir(join(data.dir, "out"));
    const unset = await cli(["upload", data.configPath]);
    assert.equal(unset.code, 2);
    assert.match(unset.stderr, /server\.passwordEnv/);
    assert.equal(server.stats.logins, 0);

    const ok = await cli(["upload", data.configPath, "--workers", "2"], { FTPB_PW: "pw-53cr3t" });
    assert.equal(ok.code, 0, ok.stderr);
    assert.deepEqual(await compareTree(server.root, data.expected), []);
    const reportText = await Deno.readTextFile(join(data.dir, "out/report.json"));
    const report = JSON.parse(reportText);
    assert.equal(report.totals.uploaded, 3);
    assert.equal(report.workers, 2);
    assert.equal(report.server.user, "u");
    for (const text of [reportText, ok.stderr, ok.stdout]) assert.ok(!text.includes("pw-53cr3t"));
    assert.match(ok.stderr, /3 files: 3 uploaded/);
  },
);

cliTest(
  "--dry-run connects to nothing and reports the plan; a missing source makes it exit 1",
  { count: 40, missing: 1 },
  async ({ server, data }) => {
    const report = join(data.dir, "r.json");
    const r = await cli(["upload", data.configPath, "--dry-run", "--report", report]);
    assert.equal(r.code, 1);
    const json = JSON.parse(await Deno.readTextFile(report));
    assert.equal(json.dryRun, true);
    assert.equal(json.totals.planned, 40);
    assert.equal(json.totals.skipped, 0);
    assert.equal(json.totals.missing, 1);
    assert.equal(server.stats.logins, 0);
    assert.deepEqual(await listTree(server.root), []);
  },
);

integrationTest("cannot connect: exit 3 with the reason", async () => {
  const dataset = { count: 2, server: { host: "127.0.0.1", port: closedPort() } };
  await withData({ ...dataset, options: { retries: 0 } }, async (data) => {
    const r = await cli(["upload", data.configPath]);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /could not connect/);
  });
});

integrationTest("demo: embedded server, every fixture uploaded, report printed", async () => {
  const r = await cli(["demo"]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  const fixtures = JSON.parse(
    await Deno.readTextFile(new URL("../../fixtures/demo.json", import.meta.url)),
  );
  assert.equal(report.totals.files, fixtures.files.length);
  assert.equal(report.totals.uploaded, fixtures.files.length);
  assert.ok(
    report.files.some((f: { destination: string }) => f.destination.endsWith("/План.txt")),
  );
  assert.ok(report.files.some((f: { destination: string }) => f.destination.endsWith("/1.txt")));
  // The re-run: the server was given each file's time, so the real rule finds them unchanged.
  assert.match(r.stderr, new RegExp(`nothing to send: ${fixtures.files.length} files unchanged`));
  assert.doesNotMatch(r.stderr, /note: /);
});

integrationTest(
  "serve: the embedded server alone, on loopback only; SIGTERM stops it",
  async () => {
    const refused = await cli(["serve", ".", "--host", "0.0.0.0"]);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /loopback/);

    const root = await Deno.makeTempDir({ prefix: "ftpbatch-serve-" });
    const child = new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", MAIN, "serve", root, "--port", "0", "--user", "u", "--password", "pw"],
      stdout: "null",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    try {
      const reader = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
      let banner = "";
      while (!/ftp:\/\/127\.0\.0\.1:\d+/.test(banner)) {
        const { value, done } = await reader.read();
        if (done) break;
        banner += value;
      }
      const port = Number(banner.match(/ftp:\/\/127\.0\.0\.1:(\d+)/)?.[1]);
      assert.ok(port > 0, banner);
      const dataset = { count: 3, server: { host: "127.0.0.1", port, user: "u", password: "pw" } };
      await withData(dataset, async (data) => {
        const up = await cli(["upload", data.configPath]);
        assert.equal(up.code, 0, up.stderr);
        assert.deepEqual(await compareTree(root, data.expected), []);
      });
      child.kill("SIGTERM");
      reader.releaseLock();
      await child.stderr.cancel().catch(() => {});
      assert.equal((await child.status).code, 0);
    } finally {
      try {
        child.kill("SIGKILL");
      } catch { /* already gone */ }
      await Deno.remove(root, { recursive: true });
    }
  },
);
