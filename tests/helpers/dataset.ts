/**
 * Test data and hashing, for tests/ and bench/: deterministic local files plus a config that
 * uploads them, the unicode set, sha256 of files, and comparing a server's tree with them.
 *
 * @module
 */

import { dirname, join } from "node:path";
import { posix } from "node:path";
import { createHash } from "node:crypto";

export interface Dataset {
  dir: string;
  configPath: string;
  /** destination -> local path, for every source that exists. */
  expected: Map<string, string>;
  /** config indexes of the sources that do not exist. */
  missing: number[];
}

const SCRIPTS = ["План", "日本語", "café ☕", "Ελληνικά", "עברית", "emoji 🎉", "#50%", "-lead"];

/** Deterministic bytes (xorshift), so a failure is reproducible. */
export function bytesFor(seed: number, size: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}

/**
 * `count` files, a third with non-ASCII names in nested non-ASCII folders,
 * plus `missing` entries whose sources do not exist.
 */
export async function makeDataset(opts: {
  count: number;
  missing?: number;
  server: Record<string, unknown>;
  options?: Record<string, unknown>;
  sizeOf?: (i: number) => number;
  remoteRoot?: string;
}): Promise<Dataset> {
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-data-" });
  const remoteRoot = opts.remoteRoot ?? "/upload";
  const files: { source: string; destination: string }[] = [];
  const expected = new Map<string, string>();
  for (let i = 0; i < opts.count; i++) {
    // Some empty files among them: servers and clients get size 0 wrong in their own ways.
    const size = opts.sizeOf?.(i) ?? (i % 97 === 5 ? 0 : 200 + ((i * 7919) % 5000));
    let rel: string;
    let dest: string;
    if (i % 3 === 0) {
      const word = SCRIPTS[i % SCRIPTS.length];
      rel = `intl/${word}/${SCRIPTS[(i + 3) % SCRIPTS.length]} ${i}.txt`;
      dest = posix.join(remoteRoot, "международный", word, `${word} ${i}.txt`);
    } else {
      rel = `plain/d${i % 10}/file-${i}.bin`;
      dest = posix.join(remoteRoot, "plain", `d${i % 10}`, `file-${i}.bin`);
    }
    const local = join(dir, "src", rel);
    await Deno.mkdir(dirname(local), { recursive: true });
    await Deno.writeFile(local, bytesFor(i + 1, size));
    files.push({ source: `src/${rel}`, destination: dest });
    expected.set(dest, local);
  }
  const missing: number[] = [];
  for (let m = 0; m < (opts.missing ?? 0); m++) {
    const at = Math.min(files.length, (m + 1) * 37);
    files.splice(at, 0, {
      source: `src/does-not-exist-${m}.txt`,
      destination: posix.join(remoteRoot, "missing", `m${m}.txt`),
    });
  }
  files.forEach((f, i) => {
    if (f.source.includes("does-not-exist")) missing.push(i);
  });
  const configPath = join(dir, "config.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({ server: opts.server, options: opts.options ?? {}, files }, null, 2),
  );
  return { dir, configPath, expected, missing };
}

/** `makeDataset`, `fn`, then the dataset's folder removed whatever happened. */
export async function withData<T>(
  opts: Parameters<typeof makeDataset>[0],
  fn: (data: Dataset) => Promise<T>,
): Promise<T> {
  const data = await makeDataset(opts);
  try {
    return await fn(data);
  } finally {
    await Deno.remove(data.dir, { recursive: true });
  }
}

/** sha256 of a file, hex, read in 4 MiB pieces (big test files never sit in memory whole). */
export async function sha256(path: string): Promise<string> {
  const h = createHash("sha256");
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(4 << 20);
  for (let n = await file.read(buf); n !== null; n = await file.read(buf)) {
    h.update(buf.subarray(0, n));
  }
  return h.digest("hex");
}

/** Asserts every expected file is on the server root with the same bytes; returns mismatches. */
export async function compareTree(
  root: string,
  expected: Map<string, string>,
): Promise<string[]> {
  const problems: string[] = [];
  for (const [dest, local] of expected) {
    const remote = join(root, dest);
    try {
      if ((await sha256(remote)) !== (await sha256(local))) {
        problems.push(`${dest}: content differs`);
      }
    } catch (e) {
      problems.push(`${dest}: ${(e as Error).message}`);
    }
  }
  return problems;
}

/** Every file below `root` (relative, POSIX). */
export async function listTree(root: string, prefix = ""): Promise<string[]> {
  const out: string[] = [];
  for await (const e of Deno.readDir(join(root, prefix))) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) out.push(...(await listTree(root, rel)));
    else out.push(rel);
  }
  return out.sort();
}

/**
 * Remote names of the unicode set: Cyrillic, Japanese, emoji, spaces, `#`, `%`, a leading `-`,
 * and folders deep and long enough that a `SIZE` of a temporary name is well over 100 bytes
 * (pure-ftpd silently drops a command line over 99 bytes that arrives during a transfer).
 */
export const UNICODE_NAMES: readonly string[] = [
  "Отчёт за март.txt",
  "日本語のファイル.txt",
  "emoji 🎉🚀 party.bin",
  "with spaces  and  more.txt",
  "#hash #tag.txt",
  "50% done.txt",
  "-leading-dash.txt",
  "-- two dashes #1.txt",
  "naïve café ☕.txt",
  "Ελληνικά αρχεία.txt",
];
const UNICODE_FOLDERS = [
  "/unicode",
  "/unicode/Документы и отчёты за весь год/日本語のフォルダー/emoji 🎉 folder #1/-dash",
];

/**
 * The unicode set: every name of {@linkcode UNICODE_NAMES} in a short and in a long nested
 * folder, `copies` times over (numbered), deterministic content of a few KiB.
 */
export function makeUnicodeDataset(opts: {
  server: Record<string, unknown>;
  options?: Record<string, unknown>;
  copies?: number;
  sizeOf?: (i: number) => number;
}): Promise<Dataset> {
  const destinations: string[] = [];
  for (let c = 0; c < (opts.copies ?? 1); c++) {
    for (const folder of UNICODE_FOLDERS) {
      for (const name of UNICODE_NAMES) {
        destinations.push(posix.join(folder, c === 0 ? name : `${c} ${name}`));
      }
    }
  }
  return makeNamedDataset({ ...opts, destinations });
}

/** One local file per destination (local names are plain), and a config uploading them. */
export async function makeNamedDataset(opts: {
  destinations: string[];
  server: Record<string, unknown>;
  options?: Record<string, unknown>;
  sizeOf?: (i: number) => number;
}): Promise<Dataset> {
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-data-" });
  await Deno.mkdir(join(dir, "src"));
  const expected = new Map<string, string>();
  const files = [];
  for (const [i, destination] of opts.destinations.entries()) {
    const local = join(dir, "src", `f${i}.bin`);
    await Deno.writeFile(local, bytesFor(i + 7, opts.sizeOf?.(i) ?? 100 + ((i * 7919) % 4000)));
    files.push({ source: `src/f${i}.bin`, destination });
    expected.set(destination, local);
  }
  const configPath = join(dir, "config.json");
  await Deno.writeTextFile(
    configPath,
    JSON.stringify({ server: opts.server, options: opts.options ?? {}, files }, null, 2),
  );
  return { dir, configPath, expected, missing: [] };
}
