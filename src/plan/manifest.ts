/**
 * The deploy manifest of `skip: "hash"` on servers without a hash command:
 * what ftpbatch uploaded, per destination root, kept on the server as
 * `<root>/.ftpbatch-manifest.json` (`.ftpbatch-manifest.<K>of<N>.json` for
 * shard K of N, so shards never write one file). For each path below the
 * root: the sha256 and size of the local content sent, and the size and
 * modification time the server listed after the upload. Pure: format, the
 * roots, and when an entry still counts (`run/deploy/deploy_manifest.ts` reads and
 * writes it).
 *
 * An entry counts only while the listing still shows the size (and time,
 * where the server keeps one) it recorded: a file edited or replaced on the
 * server by hand is sent again, never wrongly skipped. The name starts with
 * `.ftpbatch-`, so mirror deletions never remove it.
 *
 * @module
 */

import { posix } from "node:path";
import type { RemoteEntry } from "../ftp/listing.ts";
import type { Shard } from "../config/types.ts";

export interface ManifestEntry {
  sha256: string;
  size: number;
  remoteSize: number;
  /** Absent where the listing gave no time. */
  remoteMtimeMs?: number;
}

/** Path below the root (POSIX, no leading "/") → entry. */
export type Manifest = Map<string, ManifestEntry>;

/** The manifest's file name in its root folder. */
export function manifestName(shard?: Shard): string {
  return shard
    ? `.ftpbatch-manifest.${shard.index}of${shard.count}.json`
    : ".ftpbatch-manifest.json";
}

/**
 * The folders manifests live in: each folder entry's remote folder and each
 * listed file's folder, less those inside another (one manifest covers a tree).
 */
export class ManifestRoots {
  readonly roots: string[];

  constructor(candidates: Iterable<string>) {
    const all = [...new Set(candidates)].sort((a, b) => a.length - b.length);
    this.roots = [];
    for (const c of all) if (!this.rootOf(c)) this.roots.push(c);
  }

  /** The root a destination falls under, or undefined. */
  rootOf(destination: string): string | undefined {
    return this.roots.find((r) =>
      r === "/" || destination === r || destination.startsWith(r + "/")
    );
  }

  /** The destination's path below its root. */
  relOf(root: string, destination: string): string {
    return posix.relative(root, destination);
  }
}

/** Reads a manifest's bytes; anything not a version-1 manifest is an empty one. */
export function parseManifest(bytes: Uint8Array): Manifest {
  const out: Manifest = new Map();
  let doc: unknown;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return out;
  }
  const files = (doc as { version?: unknown; files?: unknown })?.files;
  if ((doc as { version?: unknown }).version !== 1 || typeof files !== "object" || !files) {
    return out;
  }
  for (const [rel, e] of Object.entries(files as Record<string, unknown>)) {
    const v = e as Partial<ManifestEntry>;
    if (
      typeof v?.sha256 === "string" && /^[0-9a-f]{64}$/.test(v.sha256) &&
      Number.isSafeInteger(v.size) && Number.isSafeInteger(v.remoteSize) &&
      (v.remoteMtimeMs === undefined || Number.isFinite(v.remoteMtimeMs))
    ) {
      out.set(rel, {
        sha256: v.sha256,
        size: v.size!,
        remoteSize: v.remoteSize!,
        ...(v.remoteMtimeMs !== undefined ? { remoteMtimeMs: v.remoteMtimeMs } : {}),
      });
    }
  }
  return out;
}

/** The manifest as JSON text: one entry per line, paths sorted (diffable, stable). */
export function serializeManifest(manifest: Manifest): string {
  const rels = [...manifest.keys()].sort();
  const lines = rels.map((rel) =>
    `    ${JSON.stringify(rel)}: ${JSON.stringify(manifest.get(rel))}`
  );
  return `{\n  "version": 1,\n  "tool": "ftpbatch",\n  "files": {\n${lines.join(",\n")}\n  }\n}\n`;
}

/**
 * Whether the entry still describes the remote file: the listing shows the
 * size it recorded, and the time too where either side has one.
 */
export function entryHolds(entry: ManifestEntry, remote: RemoteEntry | undefined): boolean {
  if (!remote || remote.type !== "file" || remote.size !== entry.remoteSize) return false;
  return remote.mtimeMs === entry.remoteMtimeMs;
}
