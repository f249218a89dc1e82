import assert from "node:assert/strict";
import { join } from "node:path";
import { acquireLock, LockFileError, LockHeldError } from "../../src/cli/lock.ts";

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
