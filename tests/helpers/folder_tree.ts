/**
 * A local folder tree for folder-source tests: non-ASCII names (Cyrillic,
 * Japanese, spaces, an NFD name), logs and a node_modules folder to filter
 * out, empty folders, and symlinks (to a file and to a folder).
 *
 * @module
 */

import { dirname, join } from "node:path";
import { bytesFor } from "./dataset.ts";

/** The tree and what a run with `TREE_EXCLUDE` must put on the server. */
export interface FolderTree {
  /** The folder to use as a source. */
  root: string;
  /** Remote path below the destination folder -> local path: every file that must arrive. */
  expected: Map<string, string>;
  /** Remote paths below the destination folder that must not be there. */
  absent: string[];
  /** Empty folders that must exist remotely (below the destination folder). */
  emptyFolders: string[];
  /** Symlinks in the tree. */
  symlinks: number;
}

export const TREE_EXCLUDE = ["**/*.log", "node_modules"];

const FILES: [string, number][] = [
  ["index.html", 120],
  ["Документы/План работ.txt", 3000],
  ["日本語/ファイル 1.txt", 700],
  ["with space/a b.txt", 10],
  ["deep/a/b/c/d.txt", 50],
  ["big.bin", 300_000],
  ["zero.txt", 0],
];

const EXCLUDED: [string, number][] = [
  ["logs/app.log", 40],
  ["logs/old/x.log", 40],
  ["Документы/журнал.log", 40],
  ["node_modules/pkg/index.js", 40],
];

/** Makes the tree in a new temp folder (under `parent` when given). */
export async function makeFolderTree(parent?: string): Promise<FolderTree> {
  const base = parent ?? await Deno.makeTempDir({ prefix: "ftpbatch-tree-" });
  const root = join(base, "site");
  const expected = new Map<string, string>();
  let seed = 1;
  for (const [rel, size] of [...FILES, ...EXCLUDED]) {
    const path = join(root, rel);
    await Deno.mkdir(dirname(path), { recursive: true });
    await Deno.writeFile(path, bytesFor(seed++, size));
    if (FILES.some(([r]) => r === rel)) expected.set(rel, path);
  }
  // A macOS-style decomposed name: the remote name is NFC.
  const nfd = "cafe\u0301 menu.txt";
  await Deno.writeFile(join(root, nfd), bytesFor(seed++, 33));
  expected.set(nfd.normalize("NFC"), join(root, nfd));
  const emptyFolders = ["empty", "Пустая папка", "deep/a/пусто"];
  for (const d of emptyFolders) await Deno.mkdir(join(root, d), { recursive: true });
  await Deno.symlink(join(root, "index.html"), join(root, "link-to-index"));
  await Deno.symlink(join(root, "Документы"), join(root, "link-dir"));
  return {
    root,
    expected,
    absent: [...EXCLUDED.map(([r]) => r), "link-to-index", "link-dir", "logs", "node_modules"],
    emptyFolders,
    symlinks: 2,
  };
}

/**
 * Folders `d0` … `d{n-1}` in `dir`, each with one file `f.txt` and two symlinks (`a`, `b`)
 * to the next: 2^(n-1) paths lead to the last one, a walk that follows links must take
 * each folder once. Returns `d0`.
 */
export async function makeLinkChain(dir: string, n: number): Promise<string> {
  for (let k = 0; k < n; k++) {
    await Deno.mkdir(join(dir, `d${k}`));
    await Deno.writeTextFile(join(dir, `d${k}`, "f.txt"), `${k}`);
  }
  for (let k = 0; k + 1 < n; k++) {
    await Deno.symlink(join(dir, `d${k + 1}`), join(dir, `d${k}`, "a"));
    await Deno.symlink(join(dir, `d${k + 1}`), join(dir, `d${k}`, "b"));
  }
  return join(dir, "d0");
}
