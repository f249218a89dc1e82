/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * Stat worker: checks batches of a folder walk's files next to the walk's
 * own thread (`src/run/sources/stat_ahead.ts`). Each batch comes with a shared
 * counter: the worker takes files from it one at a time, like the walk
 * does, writes what it found into the batch's shared answers, and counts it
 * done. It answers only for plain files the mode bits call readable; for
 * anything else it leaves state 0 and the walk checks the file itself.
 *
 * @module
 */

import { type BatchMessage, FIELDS } from "../src/run/sources/stat_ahead.ts";
import { readableByMode } from "../src/run/sources/sources.ts";

interface Ids {
  uid: number | null;
  gid: number | null;
}

let ids: Ids = { uid: null, gid: null };

self.onmessage = (e: MessageEvent) => {
  const data = e.data as { ids: Ids } | BatchMessage[];
  if ("ids" in data) {
    ids = data.ids;
    return;
  }
  for (const batch of data) check(batch);
};

/** Takes the batch's files one at a time from its shared counter until none is left. */
function check({ paths: joined, ctl, out }: BatchMessage): void {
  const paths = joined.split("\0");
  const n = paths.length;
  for (let i; (i = Atomics.add(ctl, 0, 1)) < n;) {
    const o = i * FIELDS;
    try {
      const info = Deno.statSync(paths[i]);
      if (info.isFile && readableByMode(info, ids.uid, ids.gid)) {
        out[o + 1] = info.size;
        out[o + 2] = info.mtime?.getTime() ?? 0;
        out[o + 3] = info.ino ?? NaN;
        out[o + 4] = info.ctime?.getTime() ?? NaN;
        out[o] = 1;
      }
    } catch { /* state 0: the walk checks it and says why */ }
    if (Atomics.add(ctl, 1, 1) + 1 === n) Atomics.notify(ctl, 1);
  }
}
