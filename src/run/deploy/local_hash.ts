/**
 * A local file's digest, read in 256 KiB pieces (memory stays flat whatever
 * the file's size), and a small gate that keeps a few hashes going at once
 * beside the uploads.
 *
 * @module
 */

export type HashAlgorithm = "sha256" | "sha1" | "md5";

/** Lower-case hex digest of the file at `path`. */
export async function hashFile(path: string, algorithm: HashAlgorithm = "sha256"): Promise<string> {
  // Loaded here, not at start-up: only `skip: "hash"` runs hash (see config/tree.ts loadGlobs).
  const { createHash } = await import("node:crypto");
  const hash = createHash(algorithm);
  using file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(256 * 1024);
  for (;;) {
    const n = await file.read(buf);
    if (n === null) break;
    hash.update(buf.subarray(0, n));
  }
  return hash.digest("hex");
}

/** The algorithm whose hex digest has this length (the server's reply says no more). */
export function algorithmForLength(hexLength: number): HashAlgorithm | undefined {
  return hexLength === 64
    ? "sha256"
    : hexLength === 40
    ? "sha1"
    : hexLength === 32
    ? "md5"
    : undefined;
}

/** Runs at most `limit` tasks at a time. */
export class Gate {
  #running = 0;
  #waiting: (() => void)[] = [];

  constructor(readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    while (this.#running >= this.limit) await new Promise<void>((r) => this.#waiting.push(r));
    this.#running++;
    try {
      return await task();
    } finally {
      this.#running--;
      this.#waiting.shift()?.();
    }
  }
}
