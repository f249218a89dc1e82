/**
 * `src/ftp/posix_path.ts` gives what `posix` of `node:path` gives, on every
 * path made of up to four pieces (slashes, dots, names, non-ASCII).
 */
import assert from "node:assert/strict";
import { posix } from "node:path";
import { basename, dirname, join, normalize } from "../../src/ftp/posix_path.ts";

const PIECES = ["", "/", "//", "a", "b", ".", "..", "a.b", "...", "x y", "日本", ".h"];

function paths(): Set<string> {
  const out = new Set<string>();
  let level = [""];
  for (let i = 0; i < 4; i++) {
    level = level.flatMap((p) => PIECES.map((a) => p + a));
    for (const p of level) out.add(p);
  }
  return out;
}

Deno.test("posix_path: dirname, basename, normalize and join as node:path's posix", () => {
  const wrong: string[] = [];
  const same = (what: string, mine: string, theirs: string) => {
    if (mine !== theirs) {
      wrong.push(`${what}: ${JSON.stringify(mine)}, node ${JSON.stringify(theirs)}`);
    }
  };
  for (const p of paths()) {
    const q = JSON.stringify(p);
    same(`dirname(${q})`, dirname(p), posix.dirname(p));
    same(`basename(${q})`, basename(p), posix.basename(p));
    same(`normalize(${q})`, normalize(p), posix.normalize(p));
    for (const r of ["", "a", "/b", "..", "c/"]) {
      same(`join(${q}, "${r}")`, join(p, r), posix.join(p, r));
    }
  }
  assert.deepEqual(wrong.slice(0, 10), []);
});

Deno.test("posix_path: the remote paths an upload makes", () => {
  assert.equal(dirname("/a/b/c.txt"), "/a/b");
  assert.equal(basename("/a/b/日本 1.txt"), "日本 1.txt");
  assert.equal(join("/a/b", ".c.txt.ftpbatch-1.part"), "/a/b/.c.txt.ftpbatch-1.part");
  assert.equal(join("/", ".x"), "/.x");
});
