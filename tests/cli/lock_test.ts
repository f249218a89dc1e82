import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireLock, LockFileError, LockHeldError } from "../../src/cli/lock.ts";
import { compareTree } from "../helpers/dataset.ts";
import { untilCommand } from "../helpers/embedded.ts";
import { cli, cliTest, ended, LOGIN, spawnCli } from "./cli_process.ts";

Deno.test("lock: a second holder is refused with the first one's pid and start time", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "run.lock");
  const first = await acquireLock(path, new Date("2026-11-26T01:00:00.000Z"));
  try {
    const err = await acquireLock(path).catch((e) => e);
    assert.ok(err instanceof LockHeldError, String(err));
    assert.match(err.message, new RegExp(`pid ${Deno.pid}, started 2026-11-26T01:00:00.000Z`));
  } finally {
    first.release();
  }
  // Released: the next run gets it.
  const again = await acquireLock(path);
  again.release();
  await Deno.remove(dir, { recursive: true });
});

Deno.test("lock: a folder as the lock path is a clear error", async () => {
  const dir = await Deno.makeTempDir();
  const err = await acquireLock(dir).catch((e) => e);
  assert.ok(err instanceof LockFileError, String(err));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("lock: a killed holder leaves no stale lock", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "run.lock");
  const holder = new Deno.Command(Deno.execPath(), {
    args: [
      "eval",
      `const f = await Deno.open(${
        JSON.stringify(path)
      }, { read: true, write: true, create: true });
       await f.lock(true); console.log("locked"); setInterval(() => {}, 1000);`,
    ],
    stdout: "piped",
  }).spawn();
  const reader = holder.stdout.getReader();
  const { value } = await reader.read();
  assert.match(new TextDecoder().decode(value), /locked/);
  const held = await acquireLock(path).catch((e) => e);
  assert.ok(held instanceof LockHeldError);
  holder.kill("SIGKILL");
  await holder.status;
  reader.releaseLock();
  await holder.stdout.cancel();
  const lock = await acquireLock(path);
  lock.release();
  await Deno.remove(dir, { recursive: true });
});

cliTest(
  "--lock: a second run exits 4 at once naming the holder; the first completes",
  { count: 2, sizeOf: () => 300_000 },
  async ({ server, data }) => {
    const lock = join(data.dir, "nightly.lock");
    const first = spawnCli(["upload", data.configPath, "--lock", lock, "--quiet"]);
    await untilCommand(server, "STOR");
    const second = await cli(["upload", data.configPath, "--lock", lock]);
    assert.equal(second.code, 4, second.stderr);
    assert.match(
      second.stderr,
      new RegExp(`holds the lock .*nightly\\.lock \\(pid \\d+, started `),
    );
    // The second run sent nothing: still one login (the first run's connections).
    const stores = server.stats.commands.filter((c) => c.startsWith("STOR")).length;
    assert.ok(stores <= 2, `${stores} STOR`);
    const done = await ended(first);
    assert.equal(done.code, 0, done.stderr);
    assert.deepEqual(await compareTree(server.root, data.expected), []);
    // Released with the first run: a third run takes the lock.
    const third = await cli(["upload", data.configPath, "--lock", lock, "--quiet"]);
    assert.equal(third.code, 0, third.stderr);
  },
  { server: { ...LOGIN, faults: { throttleBytesPerSecond: 200_000 } } },
);

cliTest(
  "--lock: the lock path may not be a source or the config (exit 2, nothing sent)",
  { count: 1 },
  async ({ server, data }) => {
    const before = await Deno.readTextFile(data.configPath);
    const r = await cli(["upload", data.configPath, "--lock", data.configPath]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--lock .*is the config file; the lock file would replace it/);
    assert.equal(await Deno.readTextFile(data.configPath), before);
    assert.equal(server.stats.logins, 0);
  },
);
