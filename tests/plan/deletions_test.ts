/**
 * The pure deletion plan (`plan/deletions.ts`): what may go and in which
 * order, what is always kept, and the caps.
 */
import assert from "node:assert/strict";
import {
  capProblem,
  DeletionFilter,
  type DeletionRules,
  isOwnName,
  planDeletions,
  type RemoteItem,
} from "../../src/plan/deletions.ts";
import { loadGlobs } from "../../src/config/tree.ts";

// A config with globs loads the glob compiler when it is validated; these tests skip validation.
await loadGlobs();

const f = (name: string): RemoteItem => ({ name, type: "file" });
const d = (name: string): RemoteItem => ({ name, type: "dir" });

function plan(
  listed: Record<string, RemoteItem[]>,
  local: Record<string, string[] | undefined>,
  rules: Partial<DeletionRules> = {},
) {
  return planDeletions(
    new Map(Object.entries(listed)),
    new Map(Object.entries(local).map(([k, v]) => [k, v && new Set(v)])),
    new DeletionFilter({ include: [], exclude: [], keep: [], ...rules }),
  );
}

Deno.test("deletions: what the local folder lacks goes, folders deepest first after the files", () => {
  const p = plan(
    {
      "": [f("a"), f("gone"), d("old"), d("kept")],
      old: [d("deep")],
      "old/deep": [f("x")],
      kept: [f("y")],
    },
    { "": ["a", "kept"], kept: ["y"] },
  );
  assert.deepEqual(p.files, ["gone", "old/deep/x"]);
  assert.deepEqual(p.dirs, ["old/deep", "old"]);
  assert.equal(p.held, 7);
});

Deno.test("deletions: keep globs, excludes, include, own names, links and other entries stay", () => {
  const p = plan(
    {
      "": [
        f("a.log"),
        f(".htaccess"),
        d("uploads"),
        f(".ftpbatch-manifest.json"),
        d(".ftpbatch-lock"),
        f(".x.ftpbatch-1-2.part"),
        f(".in.page.html."),
        { name: "ln", type: "link" },
        f("b.txt"),
        d("other"),
        d("mixed"),
      ],
      uploads: [f("u.jpg")],
      other: [f("o")],
      mixed: [f("m"), { name: "sock", type: "other" }],
    },
    { "": [] },
    {
      exclude: ["**/*.log"],
      keep: [".htaccess", "uploads/**"],
      include: ["**/*.txt", "mixed/*"],
      others: ["other"],
    },
  );
  assert.deepEqual(p.files, ["b.txt", "mixed/m"]);
  // A folder holding something kept (a special file) is not emptied, so not removed.
  assert.deepEqual(p.dirs, []);
});

Deno.test("deletions: a folder not listed (not read) and those above it stay", () => {
  const p = plan({ "": [d("a")], a: [d("b"), f("c")] }, { "": [] });
  assert.deepEqual(p.files, ["a/c"]);
  assert.deepEqual(p.dirs, []);
});

Deno.test("deletions: local names are compared in NFC; the shard's own files only", () => {
  const nfd = "e\u0301.txt";
  const p = plan(
    { "": [f("\u00e9.txt"), f("s1"), f("s2")] },
    { "": [nfd.normalize("NFC")] },
    { mine: (rel) => rel !== "s2" },
  );
  assert.deepEqual(p.files, ["s1"]);
});

Deno.test("deletions: the caps", () => {
  assert.equal(capProblem(5, 10, undefined, "/site"), undefined);
  assert.match(
    capProblem(6, 10, undefined, "/site")!,
    /6 of the 10 paths in \/site .* --max-delete 6/,
  );
  assert.equal(capProblem(6, 10, 6, "/site"), undefined);
  assert.match(
    capProblem(7, 100, 6, "/site")!,
    /7 deletion\(s\) planned, over the cap of 6 .*--max-delete/,
  );
  assert.match(capProblem(1, 100, 0, "/site")!, /over the cap of 0/);
});

Deno.test("deletions: ftpbatch's own names", () => {
  for (
    const n of [".ftpbatch-manifest.json", ".ftpbatch-lock", ".a.ftpbatch-x-y.part", ".in.a.html."]
  ) {
    assert.ok(isOwnName(n), n);
  }
  for (const n of ["ftpbatch.json", ".htaccess", "index.html"]) assert.ok(!isOwnName(n), n);
});
