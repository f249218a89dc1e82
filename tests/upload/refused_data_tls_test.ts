/**
 * A transfer whose data connection the server refuses with `522` (vsftpd
 * `SSL connection failed: session reuse required`, after it created the
 * file): the file fails at once (no retries: no reconnect can mend it) and
 * its temporary file is removed, against the scripted server.
 */

import assert from "node:assert/strict";
import { TEMP_MARK } from "../../src/upload/temp_name.ts";
import { startFakeFtp } from "../helpers/scripted_server.ts";
import { randomSource, testUploader } from "../helpers/kit.ts";

Deno.test("522 on the data connection: failed at once, the temporary file removed", async () => {
  const server = startFakeFtp({
    on: {
      STOR: async (arg, peer) => {
        // As vsftpd: the file exists (empty) before the data connection's TLS is refused.
        peer.server.files.set(arg, new Uint8Array());
        await peer.reply("150 Ok to send data.");
        await peer.receive();
        await peer.reply("522 SSL connection failed: session reuse required");
      },
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-522-" });
  const uploader = testUploader(server.login);
  try {
    const { source, bytes, mtimeMs } = await randomSource(dir, "a.bin", 20_000);
    const result = await uploader.upload({
      id: 0,
      source,
      destination: "/a.bin",
      size: bytes.length,
      mtimeMs,
    });
    assert.equal(result.status, "failed");
    assert.match(result.error ?? "", /522 SSL connection failed/);
    assert.equal(result.attempts, 1, "not retried as a network failure");
    assert.equal(server.commands.filter((c) => c.startsWith("STOR")).length, 1);
    assert.ok(server.commands.some((c) => c.startsWith("DELE ") && c.includes(TEMP_MARK)));
    assert.deepEqual([...server.files.keys()], [], "no temporary file left");
  } finally {
    await uploader.close();
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
