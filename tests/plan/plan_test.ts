import assert from "node:assert/strict";
import {
  batchSize,
  type CheckedSource,
  isUnder,
  planFolders,
  planJobs,
} from "../../src/plan/plan.ts";
import type { FileEntry } from "../../src/config/types.ts";

function entry(index: number, destination: string): FileEntry {
  return { index, source: `/l/s${index}`, destination };
}

Deno.test("planJobs skips missing sources and puts the largest files first", () => {
  const checked: CheckedSource[] = [
    { entry: entry(0, "/a/0"), ok: true, size: 10, mtimeMs: 1 },
    { entry: entry(1, "/a/1"), ok: false, reason: "no such file" },
    { entry: entry(2, "/a/2"), ok: true, size: 500, mtimeMs: 2 },
    { entry: entry(3, "/a/3"), ok: true, size: 10, mtimeMs: 3 },
  ];
  const jobs = planJobs(checked);
  assert.deepEqual(jobs.map((j) => j.id), [2, 0, 3]);
  assert.deepEqual(jobs[0], {
    id: 2,
    source: "/l/s2",
    destination: "/a/2",
    size: 500,
    mtimeMs: 2,
  });
});

Deno.test("planFolders: trunk first, then one group per branch, each folder once", () => {
  const plan = planFolders([
    "/in/a/c/x.txt",
    "/in/a/y.txt",
    "/in/z.txt",
    "/in/d/План/日本語/f.txt",
    "/in/a/c/w.txt",
  ]);
  assert.deepEqual(plan.trunk, ["/in"]);
  assert.deepEqual(
    plan.groups.map((g) => g.join(" ")).sort(),
    ["/in/a /in/a/c", "/in/d /in/d/План /in/d/План/日本語"],
  );
});

Deno.test("planFolders: no trunk when the tree branches at the root; the trunk can be deep", () => {
  const flat = planFolders(["/a/x", "/b/y", "/root-file.txt"]);
  assert.deepEqual(flat.trunk, []);
  assert.deepEqual(flat.groups.map((g) => g.join(" ")).sort(), ["/a", "/b"]);
  const deep = planFolders(["/s/t/u/1/x", "/s/t/u/2/x"]);
  assert.deepEqual(deep.trunk, ["/s", "/s/t", "/s/t/u"]);
  assert.deepEqual(deep.groups.map((g) => g.join(" ")).sort(), ["/s/t/u/1", "/s/t/u/2"]);
  const chain = planFolders(["/only/one/chain/f"]);
  assert.deepEqual(chain.trunk, ["/only", "/only/one", "/only/one/chain"]);
  assert.deepEqual(chain.groups, []);
});

Deno.test("planFolders of files at the root is empty", () => {
  assert.deepEqual(planFolders(["/x", "/y"]), { trunk: [], groups: [] });
});

Deno.test("batchSize spreads the tail over every worker and caps the batch", () => {
  assert.equal(batchSize(1, 4), 1);
  assert.equal(batchSize(16, 4), 1);
  assert.equal(batchSize(100, 4), 7);
  assert.equal(batchSize(100000, 4), 32);
  assert.equal(batchSize(5, 0), 2);
});

Deno.test("isUnder matches whole path segments only", () => {
  assert.equal(isUnder("/a/b/c.txt", "/a/b"), true);
  assert.equal(isUnder("/a/bc/c.txt", "/a/b"), false);
  assert.equal(isUnder("/a/b/c.txt", "/"), true);
});
