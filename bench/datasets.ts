/**
 * Deterministic benchmark data sets, written to a temp folder whose tree is
 * exactly what the server root must hold after an upload.
 *
 * - `small`: 2,000 files of 4 KiB in 40 nested folders (4 top-level, 3 below
 *   each, 2 below those), a third with non-ASCII names.
 * - `mixed`: 200 files from 1 KiB to 8 MiB (log-uniform), in 12 folders.
 * - `large`: 4 files of 256 MiB in one folder.
 * - `one`: one file of 4 KiB in one folder (start-up: a user's first try).
 *
 * Content comes from `bytesFor` (xorshift) of the test helpers; files above
 * 1 MiB repeat one 1 MiB block with the chunk number stamped into each chunk,
 * so generation is fast and a misplaced chunk still changes the hash.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { bytesFor } from "../tests/helpers/dataset.ts";

export type SetName = "one" | "small" | "mixed" | "large";
export const SET_NAMES: readonly SetName[] = ["one", "small", "mixed", "large"];

/** One file of a set; `rel` is POSIX, NFC, relative to the set's root. */
export interface BenchFile {
  rel: string;
  size: number;
  seed: number;
}

export interface DataSet {
  name: string;
  /** Local folder whose tree is uploaded to the server root `/`. */
  dir: string;
  files: BenchFile[];
  /** Every folder, parents before children. */
  dirs: string[];
  bytes: number;
  /** Files whose sha256 is checked on the server, with the expected digest. */
  sample: { rel: string; sha256: string }[];
}

const WORDS = ["План", "日本語", "café ☕", "Ελληνικά", "עברית", "emoji 🎉", "Ärger", "naïve"]
  .map((w) => w.normalize("NFC"));
const BLOCK = 1 << 20;

/** A third of the names are non-ASCII (every index divisible by 3). */
function fileName(i: number): string {
  return i % 3 === 0
    ? `${WORDS[i % WORDS.length]} ${i}.txt`.normalize("NFC")
    : `file-${String(i).padStart(5, "0")}.bin`;
}

function layout(name: SetName): { files: BenchFile[]; dirs: string[] } {
  const files: BenchFile[] = [];
  const dirs: string[] = [];
  if (name === "one") {
    dirs.push("one");
    files.push({ rel: "one/file-00000.bin", size: 4096, seed: 1 });
  } else if (name === "small") {
    const tops = ["alpha", "документы", "gamma", "日本"];
    const mids = ["s0", "café", "s2"];
    const lows = ["x", "Ωmega"];
    for (const t of tops) dirs.push(t.normalize("NFC"));
    for (const t of tops) for (const m of mids) dirs.push(`${t}/${m}`.normalize("NFC"));
    for (const t of tops) {
      for (const m of mids) for (const l of lows) dirs.push(`${t}/${m}/${l}`.normalize("NFC"));
    }
    for (let i = 0; i < 2000; i++) {
      files.push({ rel: `${dirs[i % dirs.length]}/${fileName(i)}`, size: 4096, seed: i + 1 });
    }
  } else if (name === "mixed") {
    for (const t of ["media", "données"]) {
      dirs.push(t.normalize("NFC"));
    }
    for (const t of ["media", "données"]) {
      for (let k = 0; k < 5; k++) dirs.push(`${t}/m${k}`.normalize("NFC"));
    }
    const leaves = dirs.slice(2);
    for (let i = 0; i < 200; i++) {
      // Permuted log-uniform sizes: 1 KiB .. 8 MiB.
      const k = (i * 73) % 200;
      const size = Math.round(1024 * Math.pow(8192, k / 199));
      files.push({ rel: `${leaves[i % leaves.length]}/${fileName(i)}`, size, seed: 10_000 + i });
    }
  } else {
    dirs.push("large");
    for (let i = 0; i < 4; i++) {
      files.push({ rel: `large/big-${i}.bin`, size: 256 * BLOCK, seed: 20_000 + i });
    }
  }
  return { files, dirs };
}

/** Writes `size` deterministic bytes for `seed`; returns the sha256 when asked. */
export async function writeContent(
  path: string,
  seed: number,
  size: number,
  hash: boolean,
): Promise<string | undefined> {
  const h = hash ? createHash("sha256") : undefined;
  if (size <= BLOCK) {
    const data = bytesFor(seed, size);
    await Deno.writeFile(path, data);
    h?.update(data);
    return h?.digest("hex");
  }
  const block = bytesFor(seed, BLOCK);
  const perWrite = 8;
  const buf = new Uint8Array(BLOCK * perWrite);
  using file = await Deno.open(path, { write: true, create: true, truncate: true });
  let written = 0;
  let chunk = 0;
  while (written < size) {
    let filled = 0;
    while (filled < buf.length && written + filled < size) {
      const part = buf.subarray(filled, filled + BLOCK);
      part.set(block);
      const view = new DataView(part.buffer, part.byteOffset, 16);
      view.setUint32(0, chunk++);
      view.setUint32(4, seed);
      filled += Math.min(BLOCK, size - written - filled);
    }
    const out = buf.subarray(0, filled);
    let off = 0;
    while (off < out.length) off += await file.write(out.subarray(off));
    h?.update(out);
    written += filled;
  }
  return h?.digest("hex");
}

/** Which files of a set have their hash checked on the server. */
function sampleIndexes(name: SetName, count: number): number[] {
  if (name === "large") return [0, 1, 2, 3];
  if (name === "one") return [0];
  const step = name === "small" ? 80 : 20; // 25 and 10 files
  const out: number[] = [];
  for (let i = 0; i < count; i += step) out.push(i);
  return out;
}

/** Generates one set below `base`/`name`. */
export async function makeSet(name: SetName, base: string): Promise<DataSet> {
  const dir = `${base}/${name}`;
  const { files, dirs } = layout(name);
  for (const d of dirs) await Deno.mkdir(`${dir}/${d}`, { recursive: true });
  const sampled = new Set(sampleIndexes(name, files.length));
  const sample: { rel: string; sha256: string }[] = [];
  let next = 0;
  const lane = async () => {
    while (next < files.length) {
      const i = next++;
      const f = files[i];
      const digest = await writeContent(`${dir}/${f.rel}`, f.seed, f.size, sampled.has(i));
      if (digest) sample.push({ rel: f.rel, sha256: digest });
    }
  };
  await Promise.all(Array.from({ length: name === "large" ? 2 : 16 }, lane));
  sample.sort((a, b) => (a.rel < b.rel ? -1 : 1));
  const bytes = files.reduce((n, f) => n + f.size, 0);
  return { name, dir, files, dirs, bytes, sample };
}

/**
 * The planning data set: `count` tiny files (16 to 25 bytes) in 1,000 local
 * folders, going to 1,011 remote folders below `/plan`.
 */
export async function makePlanningFiles(
  base: string,
  count: number,
): Promise<{ source: string; destination: string }[]> {
  const entries: { source: string; destination: string }[] = [];
  const madeDirs = new Set<string>();
  for (let i = 0; i < count; i++) {
    const localDir = `${base}/d${Math.floor(i / 100)}`;
    if (!madeDirs.has(localDir)) {
      madeDirs.add(localDir);
      await Deno.mkdir(localDir, { recursive: true });
    }
    entries.push({
      source: `${localDir}/f${i}.txt`,
      destination: `/plan/a${Math.floor(i / 10_000)}/b${Math.floor(i / 100) % 100}/f${i}.txt`,
    });
  }
  const enc = new TextEncoder();
  let next = 0;
  const lane = async () => {
    while (next < entries.length) {
      const i = next++;
      await Deno.writeFile(entries[i].source, enc.encode(`planning file ${i}\n`));
    }
  };
  await Promise.all(Array.from({ length: 64 }, lane));
  return entries;
}
