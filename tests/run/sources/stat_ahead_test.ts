/**
 * Checking a walk's files on two threads (`stat_ahead.ts`): whoever checks a
 * file, the walk's thread or the stat worker, the answer is what `checkFile`
 * says, in order; a large walk uses the worker and ends it when it is over
 * or stopped (a worker left running would keep this test process alive).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { StatAhead } from "../../../src/run/sources/stat_ahead.ts";
import { checkFile } from "../../../src/run/sources/sources.ts";
import { walkTree } from "../../../src/run/sources/walk.ts";

/** A folder of `n` files of sizes 0..n-1 bytes (some), a fifo, a folder and a missing name. */
async function folder(n: number): Promise<{ dir: string; paths: string[] }> {
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-stat-ahead-" });
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const p = join(dir, `f${String(i).padStart(5, "0")}`);
    Deno.writeFileSync(p, new Uint8Array(i % 7));
    paths.push(p);
  }
  await Deno.mkdir(join(dir, "sub"));
  const fifo = await new Deno.Command("mkfifo", { args: [join(dir, "fifo")] }).output();
  // Not plain readable files: the walk's thread checks them again and says why.
  paths.splice(3, 0, join(dir, "sub"), join(dir, "gone"));
  if (fifo.success) paths.splice(300, 0, join(dir, "fifo"));
  return { dir, paths };
}

function answers(get: (i: number) => unknown, n: number): unknown[] {
  return Array.from({ length: n }, (_, i) => get(i));
}

Deno.test("stat ahead: the worker's answers are checkFile's, in order", async () => {
  const { dir, paths } = await folder(1500);
  const ahead = new StatAhead({ startAfter: 0, minFolder: 1, steal: false });
  try {
    const got = answers(ahead.folder(paths), paths.length);
    assert.deepEqual(got, paths.map(checkFile));
    assert.equal(ahead.counts.fromWorker, paths.length, "every answer came from the worker");
    const missing = got[4] as { ok: boolean; reason?: string };
    assert.deepEqual(missing, { ok: false, reason: "no such file" });
  } finally {
    ahead.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stat ahead: both threads taking files give checkFile's answers, in order", async () => {
  const { dir, paths } = await folder(3000);
  const ahead = new StatAhead({ startAfter: 0, minFolder: 1 });
  try {
    for (let round = 0; round < 3; round++) {
      assert.deepEqual(answers(ahead.folder(paths), paths.length), paths.map(checkFile));
    }
  } finally {
    ahead.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stat ahead: a worker that hangs is given up; the walk checks alone and ends", async () => {
  const { dir, paths } = await folder(1200);
  const stuck = new URL("../../helpers/stuck_stat_worker.ts", import.meta.url);
  const ahead = new StatAhead({ startAfter: 0, minFolder: 1, steal: false, stuckMs: 300 }, stuck);
  try {
    assert.deepEqual(answers(ahead.folder(paths), paths.length), paths.map(checkFile));
    assert.equal(ahead.counts.stuck, true);
    assert.equal(ahead.counts.fromWorker, 0, "no answer of a worker given up is used");
    // Later folders do not wait for it at all.
    assert.deepEqual(answers(ahead.folder(paths), paths.length), paths.map(checkFile));
  } finally {
    ahead.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("stat ahead: a small walk checks on its own thread (no worker)", async () => {
  const { dir, paths } = await folder(100);
  const ahead = new StatAhead();
  try {
    assert.deepEqual(answers(ahead.folder(paths), paths.length), paths.map(checkFile));
    assert.equal(ahead.counts.fromWorker, 0);
  } finally {
    ahead.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("walk: a large tree's files are checked as checkFile does, and a walk stopped early ends its worker", async () => {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-stat-walk-" });
  try {
    for (const d of ["a", "b", "c"]) {
      await Deno.mkdir(join(root, d));
      for (let i = 0; i < 1000; i++) {
        Deno.writeFileSync(join(root, d, `${i}.txt`), new Uint8Array(i % 3));
      }
    }
    const options = { include: [], exclude: [], followSymlinks: false };
    let files = 0;
    for (const item of walkTree(root, options)) {
      if (item.kind !== "file") continue;
      files++;
      assert.deepEqual(item.checked, checkFile(item.path), item.rel);
    }
    assert.equal(files, 3000);
    // Stopped in the third folder (the worker started after 2,000 files): `return` ends it.
    assert.equal(StatAhead.running, 0, "the finished walk ended its worker");
    let seen = 0;
    for (const item of walkTree(root, options)) {
      if (item.kind !== "file" || ++seen < 2500) continue;
      assert.equal(StatAhead.running, 1, "the walk uses a worker");
      break;
    }
    assert.equal(seen, 2500);
    assert.equal(StatAhead.running, 0, "the stopped walk ended its worker");
  } finally {
    await Deno.remove(root, { recursive: true });
  }
});
