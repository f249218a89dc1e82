/**
 * The folder walker on its own: names sorted, files of a folder before its
 * subfolders, an excluded folder never entered, include only for files,
 * empty folders and unreadable ones reported, symlinks skipped or followed.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { type WalkItem, walkTree } from "../../../src/run/sources/walk.ts";
import { makeLinkChain } from "../../helpers/folder_tree.ts";
import { loadGlobs } from "../../../src/config/tree.ts";

// A config with globs loads the glob compiler when it is validated; these tests skip validation.
await loadGlobs();

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
      return `symlink ${item.rel}${item.loop ? " loop" : ""}${
        item.again !== undefined ? ` again(${item.again})` : ""
      }`;
    case "refused":
      return `refused ${item.rel}: ${item.reason}`;
    case "unmatched":
      return `unmatched ${item.include.join(",")}`;
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
  // The .log and dangling globs matched only what exclude took: said at the end.
  assert.deepEqual(items, [
    "file a.txt",
    "file b.txt",
    "file m/x.txt",
    "file z/1.txt",
    "unmatched 1,2",
  ]);
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

/** Writes a file with a raw-byte name (not valid UTF-8) through a shell. */
async function touchBytes(dir: string, name: Uint8Array, content: string): Promise<void> {
  // Octal escapes: dash's printf has no \x.
  const hex = [...name].map((b) => `\\${b.toString(8).padStart(3, "0")}`).join("");
  const out = await new Deno.Command("sh", {
    args: ["-c", `printf '%s' "$2" > "$1/$(printf '${hex}')"`, "sh", dir, content],
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
}

const bytes = (...parts: (string | number[])[]) =>
  new Uint8Array(
    parts.flatMap((p) => typeof p === "string" ? [...new TextEncoder().encode(p)] : p),
  );

Deno.test("walk: names not valid UTF-8 fail clearly, never as another file (issue 21 item 2)", async () => {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-walk-" });
  await touchBytes(root, bytes("bad", [0xff], ".txt"), "first");
  await touchBytes(root, bytes("bad", [0xef, 0xbf, 0xbd], ".txt"), "second"); // real U+FFFD
  await touchBytes(root, bytes("only", [0xfe], ".txt"), "third");
  await Deno.writeTextFile(join(root, "real\u{FFFD}.txt"), "a genuine U+FFFD name");
  const items = await collect(root);
  assert.equal(items.length, 4, JSON.stringify(items));
  // The two names Deno reads as "bad\u{FFFD}.txt" both fail: which bytes are whose is unknowable.
  assert.equal(
    items.filter((i) => /^refused bad\u{FFFD}\.txt: .*not valid UTF-8/u.test(i)).length,
    2,
  );
  assert.match(items[2], /^refused only\u{FFFD}\.txt: name is not valid UTF-8/u);
  assert.equal(items[3], "file real\u{FFFD}.txt");
});

Deno.test("walk: an NFC and an NFD name side by side both fail; so do folders that collide", async () => {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-walk-" });
  await Deno.writeTextFile(join(root, "caf\u00e9.txt"), "nfc");
  await Deno.writeTextFile(join(root, "cafe\u0301.txt"), "nfd");
  await Deno.mkdir(join(root, "d\u00e9j\u00e0"));
  await Deno.mkdir(join(root, "de\u0301ja\u0300"));
  await Deno.writeTextFile(join(root, "d\u00e9j\u00e0", "x.txt"), "1");
  await Deno.writeTextFile(join(root, "de\u0301ja\u0300", "x.txt"), "2");
  await Deno.writeTextFile(join(root, "ok.txt"), "ok");
  const items = await collect(root);
  assert.equal(items.length, 5, items.join("\n"));
  assert.deepEqual(items.filter((i) => i.startsWith("file")), ["file ok.txt"]);
  const refused = items.filter((i) => i.startsWith("refused"));
  assert.equal(refused.length, 4);
  for (const r of refused) {
    assert.match(r, /2 names in this folder reach the same destination .*NFC normalization/);
  }
  assert.equal(refused.filter((r) => /nothing below it was sent/.test(r)).length, 2);
});

Deno.test("walk: a name with CR or LF is refused at once, files beside it walk on (issue 15/21 item 7)", async () => {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-walk-" });
  await Deno.writeTextFile(join(root, "a\nb.txt"), "lf");
  await Deno.writeTextFile(join(root, "c\rd.txt"), "cr");
  await Deno.writeTextFile(join(root, "fine.txt"), "ok");
  await Deno.mkdir(join(root, "sub\n"));
  await Deno.writeTextFile(join(root, "sub\n", "x.txt"), "x");
  const items = await collect(root);
  assert.equal(items.length, 4, items.join("\n"));
  assert.match(
    items[0],
    /^refused a\nb\.txt: name contains U\+000A \(a line feed\), which FTP cannot carry/,
  );
  assert.match(items[1], /^refused c\rd\.txt: name contains U\+000D/);
  assert.equal(items[2], "file fine.txt");
  assert.match(items[3], /^refused sub\n: folder name contains U\+000A.*nothing below it was sent/);
  // An excluded odd name is simply left out.
  assert.deepEqual(await collect(root, { exclude: ["a*", "c*", "sub*"] }), ["file fine.txt"]);
});

Deno.test("walk: followSymlinks walks a folder reached by links once (issue 21 item 8)", async () => {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-walk-" });
  // d0/a and d0/b both lead to d1, d1/a and d1/b to d2, ...: 2^12 paths to d12 on main.
  const items = await collect(await makeLinkChain(root, 13), { followSymlinks: true });
  const files = items.filter((i) => i.startsWith("file"));
  assert.equal(files.length, 13, items.slice(0, 20).join("\n"));
  assert.equal(new Set(files).size, 13);
  assert.ok(items.includes("symlink b again(a)"), items.join("\n"));
  assert.equal(items.filter((i) => i.includes(" again(")).length, 12);
  // A real folder is walked where it is even when a link reached it first.
  await Deno.symlink(join(root, "d1"), join(root, "alink"));
  const both = await collect(root, { followSymlinks: true, include: ["alink/f.txt", "d1/f.txt"] });
  assert.deepEqual(both.filter((i) => i.startsWith("file")), ["file alink/f.txt", "file d1/f.txt"]);
});

Deno.test('walk: include globs that matched nothing are said; exclude "sub/" leaves the folder out', async () => {
  const root = await tree();
  const items = await collect(root, { include: ["z", "**/*.TXT", "**/*.txt", "m/"] });
  assert.equal(items.at(-1), "unmatched 0,1");
  assert.ok(items.includes("file m/x.txt"));
  const noSub = await collect(root, { exclude: ["z/", "node_modules/"] });
  assert.deepEqual(noSub, ["file a.txt", "file b.txt", "emptyDir empty", "file m/x.txt"]);
});
