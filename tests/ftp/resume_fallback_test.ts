/**
 * The resume fallback end to end through the uploader, against a scripted
 * server acting like ProFTPD with `AllowStoreRestart off`: the method refusals
 * (REST+STOR, then APPE, both 451 before any data) cost no attempt and record
 * no resume offset; the full re-send uploads the file.
 */

import assert from "node:assert/strict";
import { tempPathFor } from "../../src/upload/temp_name.ts";
import { type Peer, startFakeFtp } from "../helpers/scripted_server.ts";
import { randomSource, testUploader } from "../helpers/kit.ts";

Deno.test("ProFTPD AllowStoreRestart off: REST -> APPE -> full re-send, one attempt, no resume recorded", async () => {
  const notPermitted = (_: string, p: Peer) => {
    p.rest = 0;
    return p.reply("451 Append/Restart not permitted, try again");
  };
  const server = startFakeFtp({
    on: {
      STOR: (arg, peer) => peer.rest > 0 ? notPermitted(arg, peer) : false,
      APPE: notPermitted,
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-fallback-" });
  const uploader = testUploader(server.login, { timeoutMs: 10000 });
  try {
    const { source, bytes, mtimeMs } = await randomSource(dir, "a.bin", 30_000);
    const job = {
      id: 0,
      source,
      destination: "/a.bin",
      size: bytes.length,
      mtimeMs,
    };
    // A leftover partial temporary file from an earlier run: worth resuming, if the server lets us.
    server.files.set(tempPathFor(job.destination, job.size, job.mtimeMs), bytes.slice(0, 10_000));

    const result = await uploader.upload(job);

    assert.equal(result.status, "uploaded", result.error);
    assert.equal(result.attempts, 1);
    assert.deepEqual(result.resumedFrom, []);
    assert.equal(result.bytesSent, bytes.length);
    assert.deepEqual(server.files.get("/a.bin"), bytes);
    const sent = server.commands.map((c) => c.split(" ")[0]).filter((v) =>
      ["REST", "STOR", "APPE"].includes(v)
    );
    assert.deepEqual(sent, ["REST", "STOR", "APPE", "STOR"]);
  } finally {
    await uploader.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
