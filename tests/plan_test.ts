import assert from "node:assert/strict";
import { batchSize, type CheckedSource, folderGroups, isUnder, planJobs } from "../src/plan.ts";
import type { FileEntry } from "../src/types.ts";

function entry(index: number, destination: string): FileEntry {
  return { index, sourceAsWritten: `s${index}`, source: `/l/s${index}`, destination };
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

Deno.test("folderGroups: one group per top folder, parents first, each folder once", () => {
  const groups = folderGroups([
    "/a/b/c/x.txt",
    "/a/b/y.txt",
    "/a/z.txt",
    "/d/План/日本語/f.txt",
    "/root-file.txt",
    "/a/b/c/w.txt",
  ]);
  assert.deepEqual(groups, [
    ["/a", "/a/b", "/a/b/c"],
    ["/d", "/d/План", "/d/План/日本語"],
  ]);
});

Deno.test("folderGroups of files at the root is empty", () => {
  assert.deepEqual(folderGroups(["/x", "/y"]), []);
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
