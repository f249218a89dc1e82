/**
 * The progress line people see on stderr while a run goes: files done of
 * all, bytes sent of all, the current rate (bytes sent over the last few
 * seconds, transfers under way included: `RateWindow`), the time left, the
 * connections logged in and the retries so far. Pure: the CLI decides when
 * and how to draw it.
 *
 * @example
 * ```ts
 * import { progressLine } from "./progress_line.ts";
 * progressLine({ files: 10, filesDone: 3, bytes: 8192, bytesSent: 2048, bytesDone: 2048,
 *   connections: 2, retries: 1 }, 1024);
 * // "progress: 3/10 files, 2.0 KiB of 8.0 KiB sent, 1.0 KiB/s, ETA 6 s, 2 connections, 1 retry"
 * ```
 *
 * @module
 */

import { formatBytes, plural } from "./summary.ts";

/**
 * What the line shows. `bytes` is what there is to send: the sources found
 * less the files already on the server (skipped). `bytesDone` (files finished
 * whatever their outcome, plus how far the rest got) drives the ETA.
 */
export interface ProgressState {
  files: number;
  filesDone: number;
  bytes: number;
  bytesSent: number;
  bytesDone: number;
  connections: number;
  retries: number;
}

/** The line; `rate` in bytes per second, undefined while not yet known. */
export function progressLine(s: ProgressState, rate: number | undefined): string {
  const left = Math.max(0, s.bytes - s.bytesDone);
  const eta = left === 0 ? "ETA 0 s" : rate && rate > 0 ? `ETA ${duration(left / rate)}` : "ETA ?";
  return [
    `progress: ${s.filesDone}/${s.files} files`,
    `${formatBytes(s.bytesSent)} of ${formatBytes(s.bytes)} sent`,
    rate === undefined ? "? B/s" : `${formatBytes(rate)}/s`,
    eta,
    plural(s.connections, "connection"),
    `${s.retries} ${s.retries === 1 ? "retry" : "retries"}`,
  ].join(", ");
}

/** `42 s`, `3:05`, `1:02:09`. */
export function duration(secs: number): string {
  const s = Math.ceil(secs);
  if (s < 60) return `${s} s`;
  const two = (n: number) => String(n).padStart(2, "0");
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}:${two(m)}:${two(s % 60)}` : `${m}:${two(s % 60)}`;
}

/**
 * Bytes per second over the last `windowMs`: samples of a growing byte
 * count, the oldest dropped once a newer one is past the window's start.
 */
export class RateWindow {
  #samples: { at: number; bytes: number }[] = [];
  constructor(readonly windowMs = 5000, readonly minSpanMs = 500) {}

  /** The byte count `bytes` at time `at` (ms, any clock that only goes forward). */
  add(at: number, bytes: number): void {
    this.#samples.push({ at, bytes });
    while (this.#samples.length > 2 && this.#samples[1].at <= at - this.windowMs) {
      this.#samples.shift();
    }
  }

  /** Undefined until the samples span `minSpanMs`. */
  rate(): number | undefined {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || last.at - first.at < this.minSpanMs) return undefined;
    return Math.max(0, last.bytes - first.bytes) / ((last.at - first.at) / 1000);
  }
}
