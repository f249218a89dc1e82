/// <reference no-default-lib="true" />
/// <reference lib="deno.worker" />
/**
 * A stat worker that hangs (`stat_ahead_test.ts`): it takes the first file of
 * each batch from the shared counter and never says it is done, like a
 * worker stuck in a `stat` on a hung file system.
 *
 * @module
 */

self.onmessage = (e: MessageEvent) => {
  if (!Array.isArray(e.data)) return;
  for (const batch of e.data as { ctl: Int32Array }[]) Atomics.add(batch.ctl, 0, 1);
};
