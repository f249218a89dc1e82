/** The shared upload rate limit (`src/ftp/bandwidth.ts`): rates as written, and the bucket. */

import assert from "node:assert/strict";
import { parseRate, sharedBandwidth, Throttle } from "../../src/ftp/bandwidth.ts";

Deno.test("rates as people write them, binary units", () => {
  assert.equal(parseRate("512K"), 512 * 1024);
  assert.equal(parseRate("2M"), 2 * 1024 * 1024);
  assert.equal(parseRate("1.5m"), 1.5 * 1024 * 1024);
  assert.equal(parseRate("1G"), 1024 ** 3);
  assert.equal(parseRate("250000"), 250000);
  assert.equal(parseRate("2MiB/s"), 2 * 1024 * 1024);
  assert.equal(parseRate("100KB"), 100 * 1024);
  assert.equal(parseRate(65536), 65536);
  for (const bad of ["", "fast", "2 X", "-1M", "0", "0.5K", "200G", "1e6", "M"]) {
    assert.equal(parseRate(bad), undefined, bad);
  }
});

Deno.test("one bucket for all connections: claims queue up behind each other at the rate", () => {
  const share = sharedBandwidth(1024 * 1024); // 1 MiB/s
  let now = 1_000_000_000; // µs
  const clock = () => now;
  const a = new Throttle(share, clock);
  const b = new Throttle(share, clock);
  assert.equal(a.slice, Math.floor(1024 * 1024 / 20));
  // The first claim goes at once; each later one waits for the stretch before it.
  assert.equal(a.claim(512 * 1024), 0);
  assert.equal(b.claim(512 * 1024), 500);
  assert.equal(a.claim(1024 * 1024), 1000);
  // 2 MiB claimed at t=0: the link is busy until 2 s; at 1.5 s the next waits 0.5 s.
  now += 1_500_000;
  assert.equal(b.claim(1024), 500);
  // An idle link saves up no credit: long after, a claim goes at once, the next waits for it.
  now += 60_000_000;
  assert.equal(a.claim(1024 * 1024), 0);
  assert.equal(b.claim(1), 1000);
});

Deno.test("a clock far ahead (a jump) does not stall the run", () => {
  const share = sharedBandwidth(1024 * 1024);
  let now = 5_000_000_000;
  const a = new Throttle(share, () => now);
  a.claim(1024 * 1024);
  now -= 3_600_000_000; // an hour back
  assert.equal(a.claim(1024), 0);
});

Deno.test("slices: a twentieth of a second, 4 KiB to 256 KiB", () => {
  assert.equal(new Throttle(sharedBandwidth(2048)).slice, 4096);
  assert.equal(new Throttle(sharedBandwidth(1024 ** 3)).slice, 256 * 1024);
});

Deno.test("two workers sharing one buffer through postMessage see one bucket", async () => {
  const share = sharedBandwidth(1024 * 1024);
  const code = `
    import { Throttle } from "${new URL("../../src/ftp/bandwidth.ts", import.meta.url).href}";
    self.onmessage = (e) => {
      const t = new Throttle(e.data);
      t.claim(1024 * 1024);
      self.postMessage("claimed");
    };`;
  const url = URL.createObjectURL(new Blob([code], { type: "text/javascript" }));
  const worker = new Worker(url, { type: "module" });
  try {
    const done = new Promise((resolve) => worker.onmessage = resolve);
    worker.postMessage(share);
    await done;
    // The worker's 1 MiB claim is seen here: the link is busy for about a second.
    const wait = new Throttle(share).claim(1);
    assert.ok(wait > 800 && wait <= 1000, `waits ${wait} ms`);
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});
