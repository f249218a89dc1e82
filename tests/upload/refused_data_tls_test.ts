/**
 * A transfer whose data connection the server refuses with `522` (vsftpd
 * `SSL connection failed: session reuse required`, after it created the
 * file): the file fails at once (no retries: no reconnect can mend it) and
 * its temporary file is removed, against the scripted server.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { Uploader } from "../../src/upload/uploader.ts";
import { TEMP_MARK } from "../../src/upload/temp_name.ts";
import { startFakeFtp } from "../helpers/scripted_server.ts";

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
  const uploader = new Uploader({
    server: server.login,
    retries: 3,
    atomic: true,
    verify: "size",
    backoffBaseMs: 10,
    backoffMaxMs: 20,
    timeoutMs: 5000,
  });
  try {
    const source = join(dir, "a.bin");
    const bytes = crypto.getRandomValues(new Uint8Array(20_000));
    await Deno.writeFile(source, bytes);
    const { mtime } = await Deno.stat(source);
    const result = await uploader.upload({
      id: 0,
      source,
      destination: "/a.bin",
      size: bytes.length,
      mtimeMs: mtime!.getTime(),
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
