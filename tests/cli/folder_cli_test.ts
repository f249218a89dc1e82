/**
 * Folder sources through the command line: a filter on a source that turns
 * out to be a file is exit 2 naming `files[i].include`, with no connection
 * made; a folder entry's totals are in the report file.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, withServer } from "./cli_process.ts";
import { integrationTest } from "../helpers/kit.ts";

integrationTest(
  "cli: include on a file source is exit 2 naming files[1].include; nothing sent",
  async () => {
    await withServer(async (server, root) => {
      const dir = await Deno.makeTempDir();
      await Deno.writeTextFile(join(dir, "a.txt"), "a");
      await Deno.writeTextFile(
        join(dir, "c.json"),
        JSON.stringify({
          server: { host: server.host, port: server.port, user: "u", password: "pw-53cr3t" },
          files: [
            { source: "a.txt", destination: "/a.txt" },
            { source: "a.txt", destination: "/in", include: ["*.txt"] },
          ],
        }),
      );
      const r = await cli(["upload", join(dir, "c.json")]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /files\[1\]\.include: is only for folder sources/);
      assert.equal(server.stats.logins, 0);
      assert.deepEqual([...Deno.readDirSync(root)], []);
    });
  },
);

integrationTest("cli: a folder entry's totals are in the report file", async () => {
  await withServer(async (server) => {
    const dir = await Deno.makeTempDir();
    await Deno.mkdir(join(dir, "site", "sub"), { recursive: true });
    await Deno.writeTextFile(join(dir, "site", "a.html"), "<p>a</p>");
    await Deno.writeTextFile(join(dir, "site", "sub", "b.log"), "log");
    await Deno.writeTextFile(
      join(dir, "c.json"),
      JSON.stringify({
        server: { host: server.host, port: server.port, user: "u", password: "pw-53cr3t" },
        options: { report: "report.json" },
        files: [{ source: "site/", destination: "/www/", exclude: ["**/*.log"] }],
      }),
    );
    const r = await cli(["upload", join(dir, "c.json"), "--quiet"]);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
    assert.equal(report.entries.length, 1);
    const e = report.entries[0];
    assert.deepEqual(
      [e.index, e.destination, e.files, e.uploaded, e.failed, e.bytes],
      [0, "/www", 1, 1, 0, 8],
    );
    assert.deepEqual(report.files.map((f: { destination: string }) => f.destination), [
      "/www/a.html",
    ]);
  });
});
