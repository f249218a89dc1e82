/**
 * Issue 21 item 1: the report and the lock file must not land inside a
 * folder source (it would be uploaded, and the lock would empty the file it
 * replaced), also when either side is reached through a symlink; and a lock
 * path that holds anything but a lock line is never emptied.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireLock, LockFileError } from "../../src/cli/lock.ts";
import { cli, integration, withServer } from "./cli_process.ts";

Deno.test({
  name:
    "--lock and --report inside a folder source (through symlinks too): exit 2, nothing touched",
  ...integration,
  async fn() {
    await withServer(async (server) => {
      const dir = await Deno.makeTempDir({ prefix: "ftpbatch-inside-" });
      const src = join(dir, "src");
      await Deno.mkdir(join(src, "sub"), { recursive: true });
      await Deno.writeTextFile(join(src, "sub", "data.csv"), "a,b\n1,2\n");
      await Deno.writeTextFile(join(src, "index.html"), "<h1>site</h1>");
      await Deno.symlink(src, join(dir, "via-link"));
      const configPath = join(dir, "ftpbatch.json");
      await Deno.writeTextFile(
        configPath,
        JSON.stringify({
          server: { host: server.host, port: server.port, user: "u", password: "pw-53cr3t" },
          // The folder source itself is given through the link.
          files: [{ source: "via-link/", destination: "/www/" }],
        }),
      );
      const cases: string[][] = [
        ["--lock", join(src, "sub", "data.csv")],
        ["--report", join(src, "index.html")],
        ["--report", join(dir, "via-link", "new-report.json")], // not there yet
        ["--lock", join(src, "sub", "new.lock")],
      ];
      for (const args of cases) {
        const r = await cli(["upload", configPath, ...args]);
        assert.equal(r.code, 2, `${args}: ${r.stderr}`);
        assert.match(r.stderr, /inside the source folder of files\[0\]/, args.join(" "));
      }
      assert.equal(await Deno.readTextFile(join(src, "sub", "data.csv")), "a,b\n1,2\n");
      assert.equal(await Deno.readTextFile(join(src, "index.html")), "<h1>site</h1>");
      assert.deepEqual(
        (await Array.fromAsync(Deno.readDir(join(src, "sub")))).map((e) => e.name),
        ["data.csv"],
      );
      // A folder source written without the "/" (known a folder only once looked at), behind a
      // listed file: the same refusal.
      await Deno.writeTextFile(join(dir, "one.txt"), "one");
      const undeclared = join(dir, "undeclared.json");
      await Deno.writeTextFile(
        undeclared,
        JSON.stringify({
          server: { host: server.host, port: server.port, user: "u", password: "pw-53cr3t" },
          files: [
            { source: "one.txt", destination: "/one.txt" },
            { source: "via-link", destination: "/www" },
          ],
        }),
      );
      for (const args of [["--report", join(src, "r.json")], ["--lock", join(src, "x.lock")]]) {
        const r = await cli(["upload", undeclared, ...args]);
        assert.equal(r.code, 2, `${args}: ${r.stderr}`);
        assert.match(r.stderr, /inside the source folder of files\[1\]/, args.join(" "));
      }
      assert.deepEqual(server.stats.commands, []);
      // Beside the source, both are fine.
      const ok = await cli(
        ["upload", configPath, "--lock", join(dir, "run.lock"), "--report", join(dir, "r.json")],
      );
      assert.equal(ok.code, 0, ok.stderr);
      await Deno.remove(dir, { recursive: true });
    });
  },
});

Deno.test("lock: an existing file that is not a lock is refused and left as it is", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "notes.txt");
  await Deno.writeTextFile(path, "my notes, not a lock\n");
  const err = await acquireLock(path).catch((e) => e);
  assert.ok(err instanceof LockFileError, String(err));
  assert.match(err.message, /not an ftpbatch lock file/);
  assert.equal(await Deno.readTextFile(path), "my notes, not a lock\n");
  // An empty file, or one an earlier run left, is taken.
  await Deno.writeTextFile(path, "");
  (await acquireLock(path)).release();
  const again = await acquireLock(path); // holds the line the last run wrote
  again.release();
  assert.match(await Deno.readTextFile(path), /^pid \d+, started /);
  await Deno.remove(dir, { recursive: true });
});
