/**
 * The folder walker on its own: names sorted, files of a folder before its
 * subfolders, an excluded folder never entered, include only for files,
 * empty folders and unreadable ones reported, symlinks skipped or followed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type WalkItem, walkTree } from "../../src/run/walk.ts";

async function collect(root: string, o: Partial<Parameters<typeof walkTree>[1]> = {}) {
  const out: string[] = [];
  for await (
    const item of walkTree(root, { include: [], exclude: [], followSymlinks: false, ...o })
  ) {
    out.push(describe(item));
  }
  return out;
}

function describe(item: WalkItem): string {
  switch (item.kind) {
    case "file":
      return `file ${item.rel}${item.checked.ok ? "" : ` (${item.checked.reason})`}`;
    case "symlink":
      return `symlink ${item.rel}${item.loop ? " loop" : ""}`;
    default:
      return `${item.kind} ${item.rel}`;
  }
}

async function tree(): Promise<string> {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-walk-" });
  for (const rel of ["b.txt", "a.txt", "z/2.log", "z/1.txt", "m/x.txt", "node_modules/p/i.js"]) {
    await Deno.mkdir(join(root, rel, ".."), { recursive: true });
    await Deno.writeTextFile(join(root, rel), rel);
  }
  await Deno.mkdir(join(root, "empty"));
  // Only reachable by entering node_modules: seen if the walker went in despite the exclude.
  await Deno.symlink(join(root, "nowhere"), join(root, "node_modules", "dangling"));
  return root;
}

Deno.test("walk: sorted, files before subfolders, empty folders reported", async () => {
  const root = await tree();
  assert.deepEqual(await collect(root), [
    "file a.txt",
    "file b.txt",
    "emptyDir empty",
    "file m/x.txt",
    "symlink node_modules/dangling",
    "file node_modules/p/i.js",
    "file z/1.txt",
    "file z/2.log",
  ]);
});

Deno.test("walk: an excluded folder is not entered; exclude wins over include", async () => {
  const root = await tree();
  const items = await collect(root, {
    include: ["**/*.txt", "**/*.log", "**/dangling"],
    exclude: ["node_modules", "z/*.log"],
    followSymlinks: true,
  });
  assert.deepEqual(items, ["file a.txt", "file b.txt", "file m/x.txt", "file z/1.txt"]);
  // Followed without the exclude, the dangling link is a file that cannot be read.
  const all = await collect(root, { followSymlinks: true });
  assert.ok(all.includes("file node_modules/dangling (no such file)"), all.join("\n"));
});

Deno.test("walk: a followed link back up the tree is reported as a loop, once", async () => {
  const root = await tree();
  await Deno.symlink(root, join(root, "m", "up"));
  const items = await collect(root, { followSymlinks: true, exclude: ["node_modules"] });
  assert.deepEqual(items.filter((i) => i.startsWith("symlink")), ["symlink m/up loop"]);
});

Deno.test("walk: a source folder that does not exist is one unreadable item", async () => {
  assert.deepEqual(await collect("/nonexistent/ftpbatch"), ["unreadable "]);
});
