/**
 * One upload rate limit (`--bwlimit`, `options.bwlimit`) for all of a run's
 * connections, each of which is a Web Worker: a token bucket kept in a
 * `SharedArrayBuffer`, claimed with `Atomics.compareExchange`.
 *
 * Why shared memory rather than the coordinator handing out shares: a
 * connection that is between files (SIZE, rename, MKD) or waiting on a slow
 * server would hold a share it cannot use, and re-dividing costs messages and
 * lags; with one bucket each connection claims the next free stretch of the
 * link just before it writes, so the total holds however many connections
 * are sending at the moment, with no messages at all.
 *
 * The bucket is kept as a virtual clock (GCRA): one 64-bit integer, the
 * time (µs) from which the link is free. Writing `n` bytes claims
 * `n / rate` seconds from `max(now, free)` on; the writer waits until its
 * stretch begins. An idle link saves up no credit, so a burst is at most one
 * slice per connection (see {@linkcode Throttle.slice}).
 *
 * @example
 * ```ts
 * import { parseRate, sharedBandwidth, Throttle } from "./bandwidth.ts";
 * const share = sharedBandwidth(parseRate("2M")!); // 2 MiB/s, posted to every worker
 * const throttle = new Throttle(share);
 * await throttle.take(throttle.slice); // before each write of up to `slice` bytes
 * ```
 *
 * @module
 */

/** The shared limit: bytes per second and the virtual clock all connections claim from. */
export interface BandwidthShare {
  bytesPerSecond: number;
  /** 8 bytes: a BigInt64, the time (µs since the epoch) from which the link is free. */
  clock: SharedArrayBuffer;
}

/** A new shared limit of `bytesPerSecond`, to hand to every connection of the run. */
export function sharedBandwidth(bytesPerSecond: number): BandwidthShare {
  return { bytesPerSecond, clock: new SharedArrayBuffer(8) };
}

const UNITS: Record<string, number> = { "": 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3 };
/** Slowest and fastest limits taken: 1 KiB/s, 100 GiB/s. */
export const MIN_RATE = 1024;
export const MAX_RATE = 100 * 1024 ** 3;

/**
 * Bytes per second for `512K`, `2M`, `1.5M`, `1G`, `250000` (binary units, as rclone and
 * lftp; `KiB`, `MB/s` and the like also read), or undefined when it is not a rate in
 * [{@linkcode MIN_RATE}, {@linkcode MAX_RATE}].
 */
export function parseRate(text: string | number): number | undefined {
  let bytes: number;
  if (typeof text === "number") {
    bytes = text;
  } else {
    const m = /^\s*(\d+(?:\.\d+)?)\s*([KMG]?)(?:i?B)?(?:\/s)?\s*$/i.exec(text);
    if (!m) return undefined;
    bytes = Number(m[1]) * UNITS[m[2].toUpperCase()];
  }
  if (!Number.isFinite(bytes)) return undefined;
  bytes = Math.round(bytes);
  return bytes >= MIN_RATE && bytes <= MAX_RATE ? bytes : undefined;
}

/** A claim this far ahead of now can only be a clock that jumped: start over from now. */
const SKEW_US = 10_000_000n;

/** One connection's handle on the shared limit. */
export class Throttle {
  readonly #clock: BigInt64Array;
  readonly #rate: number;
  /**
   * Largest write to make at once: a twentieth of a second of the link (4 KiB to 256 KiB),
   * so connections interleave finely and progress moves smoothly.
   */
  readonly slice: number;

  constructor(share: BandwidthShare, readonly now: () => number = wallMicros) {
    this.#clock = new BigInt64Array(share.clock);
    this.#rate = share.bytesPerSecond;
    this.slice = Math.max(4096, Math.min(256 * 1024, Math.floor(this.#rate / 20)));
  }

  /** Claims the link for `bytes`; resolves when they may be written. */
  take(bytes: number): Promise<void> | undefined {
    const wait = this.claim(bytes);
    return wait > 0 ? new Promise((resolve) => setTimeout(resolve, wait)) : undefined;
  }

  /** Claims the link for `bytes`; the milliseconds to wait before writing them. */
  claim(bytes: number): number {
    const cost = BigInt(Math.ceil((bytes * 1e6) / this.#rate));
    const now = BigInt(Math.floor(this.now()));
    for (;;) {
      const free = Atomics.load(this.#clock, 0);
      const start = free > now && free - now < SKEW_US ? free : now;
      if (Atomics.compareExchange(this.#clock, 0, free, start + cost) === free) {
        return Number(start - now) / 1000;
      }
    }
  }
}

/** Microseconds since the epoch, the same in every worker (each has its own `timeOrigin`). */
function wallMicros(): number {
  return (performance.timeOrigin + performance.now()) * 1000;
}
