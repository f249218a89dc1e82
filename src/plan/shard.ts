/**
 * Sharding: which files one of N runs takes, so a scheduler (Kubernetes
 * indexed Job, CI matrix, Nomad) can split one config over N machines.
 * Pure: no I/O.
 *
 * A file's shard depends only on its normalized destination and N, never on
 * its position, so adding or removing other files moves nobody, the shards
 * are disjoint, and together they hold every file exactly once. The hash is
 * FNV-1a (32 bit) of the destination's UTF-8 bytes, fed into jump consistent
 * hashing (Lamping & Veach, 2014): going from N to N+1 shards moves only
 * about 1/(N+1) of the files, all of them into the new shard.
 *
 * @example
 * ```ts
 * import { parseShard, selectShard, shardOf } from "./shard.ts";
 * const shard = parseShard("1/3"); // { index: 1, count: 3 }
 * shardOf("/incoming/a.txt", 3); // always the same number in 0..2
 * selectShard([{ destination: "/a" }, { destination: "/b" }], shard); // those in shard 1
 * ```
 *
 * @module
 */

import type { FileEntry, Shard } from "../config/types.ts";

/** More shards than this is a typo, not a plan (Kubernetes caps indexed Jobs at 100,000). */
export const MAX_SHARDS = 100_000;

const encoder = new TextEncoder();

/** The shard (0..count-1) a destination belongs to among `count` shards. */
export function shardOf(destination: string, count: number): number {
  let state = fnv1a(encoder.encode(destination));
  // Jump consistent hash with a 32-bit generator seeded by the path's hash.
  let b = -1;
  let j = 0;
  while (j < count) {
    b = j;
    state = (state + 0x6d2b79f5) | 0;
    const r = (mix(state) + 1) / 2 ** 32; // in (0, 1]
    j = Math.floor((b + 1) / r);
  }
  return b;
}

/** The entries `shard` takes, in their original order; all of them without a shard. */
export function selectShard<T extends { destination: string }>(entries: T[], shard?: Shard): T[] {
  if (!shard) return entries;
  return entries.filter((e) => shardOf(e.destination, shard.count) === shard.index);
}

/**
 * Parses "K/N" (shard K of N, K counted from 0). Returns the shard, or the
 * reason it is wrong, worded to follow the name of what held it.
 */
export function parseShard(text: string): Shard | string {
  const m = /^(\d{1,6})\/(\d{1,6})$/.exec(text);
  if (!m) return `must be K/N (shard K of N, K from 0 to N-1), e.g. "0/4"; got ${quote(text)}`;
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1 || count > MAX_SHARDS) {
    return `has N = ${count}; the number of shards must be from 1 to ${MAX_SHARDS}`;
  }
  if (index >= count) {
    return `has K = ${index}, but shards of ${count} are numbered 0 to ${count - 1}`;
  }
  return { index, count };
}

/**
 * Identifies the config's list of files (every shard's, in config order), so
 * reports of shards of one config can be told from reports of another. Uses
 * the destinations only: machines may check out or mount the sources elsewhere.
 */
export async function filesDigest(files: Pick<FileEntry, "destination">[]): Promise<string> {
  return await sha256Hex(files.map((f) => JSON.stringify(f.destination) + "\n").join(""));
}

/**
 * SHA-256 of `text` (UTF-8) as hex, by Web Crypto: `node:crypto` would load
 * Node compatibility into every run for a digest only sharded runs need.
 */
export async function sha256Hex(text: string): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function fnv1a(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193);
  return h >>> 0;
}

/** mulberry32's output function: spreads a counter over all 32 bits. */
function mix(state: number): number {
  let t = Math.imul(state ^ (state >>> 15), state | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (t ^ (t >>> 14)) >>> 0;
}

function quote(text: string): string {
  return JSON.stringify(text.length > 40 ? text.slice(0, 40) + "…" : text);
}
