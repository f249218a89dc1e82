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
  const data = e.data as { ctl?: Int32Array };
  if (data.ctl) Atomics.add(data.ctl, 0, 1);
};
