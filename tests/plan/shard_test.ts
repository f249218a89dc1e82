import assert from "node:assert/strict";
import { filesDigest, parseShard, selectShard, shardOf } from "../../src/plan/shard.ts";

/** Destinations shaped like real trees: shared folders, numbered names, non-ASCII. */
function destinations(n: number, offset = 0): string[] {
  return Array.from({ length: n }, (_, k) => {
    const i = k + offset;
    return i % 3 === 0
      ? `/upload/международный/План ${i % 7}/файл ${i}.txt`
      : `/upload/plain/d${i % 10}/file-${i}.bin`;
  });
}

function split(paths: string[], count: number): string[][] {
  return Array.from(
    { length: count },
    (_, index) =>
      selectShard(paths.map((destination) => ({ destination })), { index, count })
        .map((e) => e.destination),
  );
}

Deno.test("shards are disjoint and together hold every file exactly once", () => {
  const paths = destinations(5000);
  for (const count of [1, 2, 3, 4, 7, 16]) {
    const shards = split(paths, count);
    const all = shards.flat();
    assert.equal(all.length, paths.length, `N=${count}`);
    assert.equal(new Set(all).size, paths.length, `N=${count}: a file in two shards`);
    assert.deepEqual([...all].sort(), [...paths].sort());
  }
});

Deno.test("a file's shard is its own: adding or removing other files moves nobody", () => {
  const before = destinations(3000);
  const after = [...destinations(500, 10_000), ...before.filter((_, i) => i % 5 !== 0)].reverse();
  const shardsBefore = split(before, 5);
  const shardsAfter = split(after, 5);
  for (let k = 0; k < 5; k++) {
    const now = new Set(shardsAfter[k]);
    for (const p of shardsBefore[k]) {
      if (after.includes(p)) assert.ok(now.has(p), `${p} left shard ${k}`);
    }
  }
});

Deno.test("roughly balanced: every shard within 10% of an even split", () => {
  const paths = destinations(20_000);
  for (const count of [2, 4, 8]) {
    const even = paths.length / count;
    for (const [k, shard] of split(paths, count).entries()) {
      assert.ok(
        Math.abs(shard.length - even) < even * 0.1,
        `N=${count} shard ${k}: ${shard.length} files, even is ${even}`,
      );
    }
  }
});

Deno.test("deterministic and pinned: the same path gives the same shard on every machine", () => {
  // Pinned values: a change here re-shards every user's files; make it on purpose or not at all.
  const pinned = ["/a.txt", "/upload/План.txt", "/x/y/z 1.bin", "/日本語/emoji 🎉"].map((
    p,
  ) => [shardOf(p, 4), shardOf(p, 1000)]);
  assert.deepEqual(pinned, PINNED);
  for (const p of destinations(200)) assert.equal(shardOf(p, 9), shardOf(p, 9));
  for (const p of destinations(200)) assert.equal(shardOf(p, 1), 0);
});
// Cross-checked against an independent Python implementation of the same algorithm.
const PINNED = [[1, 323], [3, 889], [0, 327], [2, 124]];

Deno.test("growing N to N+1 moves files only into the new shard (jump hash)", () => {
  const paths = destinations(4000);
  let moved = 0;
  for (const p of paths) {
    const a = shardOf(p, 6);
    const b = shardOf(p, 7);
    if (a !== b) {
      assert.equal(b, 6, `${p} moved from ${a} to ${b}`);
      moved++;
    }
  }
  // About 1/7 of them move; modulo hashing would move about 6/7.
  assert.ok(moved > paths.length * 0.1 && moved < paths.length * 0.2, `${moved} moved`);
});

Deno.test("parseShard: K/N with 0 <= K < N; everything else a reason", () => {
  assert.deepEqual(parseShard("0/1"), { index: 0, count: 1 });
  assert.deepEqual(parseShard("3/4"), { index: 3, count: 4 });
  for (
    const [text, reason] of [
      ["4/4", /numbered 0 to 3/],
      ["0/0", /from 1 to/],
      ["-1/4", /must be K\/N/],
      ["1", /must be K\/N/],
      ["1/4/", /must be K\/N/],
      [" 1/4", /must be K\/N/],
      ["a/b", /must be K\/N/],
      ["1.5/4", /must be K\/N/],
      ["0/200000", /from 1 to 100000/],
    ] as const
  ) {
    const r = parseShard(text);
    assert.equal(typeof r, "string", text);
    assert.match(r as string, reason, text);
  }
});

Deno.test("filesDigest: same list same digest; order or a destination changes it", async () => {
  const a = [{ destination: "/r/a.txt" }, { destination: "/r/b.txt" }];
  assert.equal(await filesDigest(a), await filesDigest(structuredClone(a)));
  assert.notEqual(await filesDigest(a), await filesDigest([...a].reverse()));
  assert.notEqual(
    await filesDigest(a),
    await filesDigest([a[0], { ...a[1], destination: "/r/c.txt" }]),
  );
  assert.match(await filesDigest(a), /^[0-9a-f]{64}$/);
});
