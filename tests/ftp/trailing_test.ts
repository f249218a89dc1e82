/**
 * The judge of commands trailing a STOR, without sockets: the orders each
 * server of the matrix was seen to answer in (`src/ftp/trailing.ts`), and
 * that a reply where the transfer's final one belongs is never taken for it
 * unless its code says so.
 */

import assert from "node:assert/strict";
import { Trail, type TrailRequest, writeBytes } from "../../src/ftp/trailing.ts";
import type { Reply } from "../../src/ftp/reply.ts";

const r = (message: string): Reply => ({ code: Number(message.slice(0, 3)), message });

/** Feeds the replies after the `150` as the transport reads them; the verdict and the trail. */
function judge(mode: TrailRequest["mode"], after: string[], next = true) {
  const request: TrailRequest = { mode, next };
  const trail = new Trail(request, "/d/a.bin", true);
  const queue = after.map(r);
  let final: Reply | undefined;
  for (;;) {
    const reply = queue.shift()!;
    const seen = trail.atFinal(reply);
    if (seen === "outOfStep") return { verdict: "outOfStep", request, trail };
    if (seen === "final") {
      final = reply;
      break;
    }
  }
  while (trail.unread > 0 && queue.length > 0) trail.replies.push(queue.shift()!);
  const verdict = trail.settle(true) ? "ok" : "outOfStep";
  return { verdict, request, trail, final };
}

Deno.test("trailing: SIZE and the next EPSV go with the STOR, the probe is a NOOP", () => {
  assert.deepEqual(new Trail({ mode: "probe", next: true }, "/a", true).lines, ["NOOP"]);
  assert.deepEqual(new Trail({ mode: "size", next: true }, "/a", true).lines, ["SIZE /a", "EPSV"]);
  assert.deepEqual(new Trail({ mode: "size", next: false }, "/a", true).lines, ["SIZE /a"]);
  // No proven EPSV on the connection (or active mode): SIZE alone.
  assert.deepEqual(new Trail({ mode: "size", next: true }, "/a", false).lines, ["SIZE /a"]);
});

Deno.test("trailing: vsftpd, pure-ftpd, ProFTPD answer after the 226: held", () => {
  const probe = judge("probe", ["226 Transfer complete.", "200 NOOP ok."]);
  assert.equal(probe.verdict, "ok");
  assert.equal(probe.request.outcome, "held");
  assert.equal(probe.final?.code, 226);
  const size = judge("size", [
    "226-File successfully transferred",
    "213 4096",
    "229 Extended Passive mode OK (|||24899|)",
  ]);
  assert.equal(size.verdict, "ok");
  assert.equal(size.request.outcome, "held");
  assert.equal(size.trail.size?.message, "213 4096");
  assert.equal(size.trail.epsv?.code, 229);
});

Deno.test("trailing: pyftpdlib answers the probe during the transfer: refused, still in step", () => {
  const probe = judge("probe", ["200 I successfully did nothing'.", "226 Transfer complete."]);
  assert.equal(probe.verdict, "ok");
  assert.equal(probe.request.outcome, "refused");
  assert.equal(probe.final?.code, 226, "the 226 is the transfer's, the 200 the NOOP's");
});

Deno.test("trailing: pure-ftpd's 500 to a NOOP that arrived during the transfer: refused", () => {
  const probe = judge("probe", ["500 Unknown command", "226-File successfully transferred"]);
  assert.equal(probe.verdict, "ok");
  assert.equal(probe.request.outcome, "refused");
  assert.equal(probe.final?.code, 226);
});

Deno.test("trailing: a SIZE answered during the transfer is never the file's proof", () => {
  // ProFTPD with the commands arriving mid-transfer: the partial size first.
  for (
    const after of [
      ["213 0", "226 Transfer complete", "229 Entering Extended Passive Mode (|||1|)"],
      // HiddenStores: 550 before the 226 would pass for a failed STOR; the 226 after it
      // cannot be SIZE's reply.
      ["550 a.bin: No such file or directory", "226 Transfer complete", "229 (|||1|)"],
      // pure-ftpd: one 500 for both commands, then the 226.
      ["500 Unknown command", "226-File successfully transferred"],
      // pyftpdlib: the SIZE and EPSV answered, the transfer cut (no 226 ever).
      ["213 0", "229 Entering extended passive mode (|||31468|)."],
      // EPSV's reply where SIZE's belongs.
      ["226 Transfer complete", "229 Entering Extended Passive Mode (|||1|)", "213 4096"],
    ]
  ) {
    const seen = judge("size", after);
    assert.equal(seen.verdict, "outOfStep", after.join(" / "));
    assert.equal(seen.request.outcome, "refused");
  }
});

Deno.test("trailing: a refused STOR's trailing replies are read and keep the verdict open", () => {
  const request: TrailRequest = { mode: "size", next: true };
  const trail = new Trail(request, "/no/x", true);
  trail.replies.push(r("550 Could not get file size."), r("229 (|||20228|)"));
  assert.equal(trail.settle(false), true);
  assert.equal(request.outcome, undefined);
  const probe: TrailRequest = { mode: "probe", next: true };
  const t2 = new Trail(probe, "/no/x", true);
  t2.replies.push(r("200 NOOP ok."));
  assert.equal(t2.settle(false), true);
  assert.equal(probe.outcome, undefined, "a refused STOR proves nothing: probe again");
});

Deno.test("trailing: a failed transfer with trailing replies in order is a failure, in step", () => {
  const seen = judge("size", ["552 Quota exceeded", "213 100", "229 (|||1|)"]);
  assert.equal(seen.verdict, "ok");
  assert.equal(seen.final?.code, 552);
});

Deno.test("trailing: write size in UTF-8 bytes, CRLF included", () => {
  assert.equal(writeBytes(["STOR a"]), 8);
  assert.equal(writeBytes(["SIZE é", "EPSV"]), 9 + 6);
  assert.equal(writeBytes(["日"]), 5);
});
