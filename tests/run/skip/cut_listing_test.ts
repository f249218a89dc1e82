/**
 * Issue 21 item 4: a listing cut in the middle of a name and closed with
 * `226` must not be trusted. The scripted server lists `b.txt` and
 * `a.txt.old` (9 bytes), but the data connection ends after "a.txt" of the
 * second line: read as complete, there would be an `a.txt` of 9 bytes with
 * the local file's time, and the new local 9-byte `a.txt` would never be
 * uploaded. It is asked for (not there) and sent.
 */
import assert from "node:assert/strict";
import { checkRemote } from "../../../src/run/skip/remote_check.ts";
import { startFakeFtp } from "../../helpers/scripted_server.ts";

const T = Date.UTC(2026, 0, 1); // the fake server's MDTM says 20260101000000 for every file

Deno.test("a listing cut mid-name (226 all the same) is not trusted: the file is asked for and sent", async () => {
  const whole = "-rw-r--r--    1 ftp ftp            5 Jan 01 00:00 b.txt\r\n" +
    "-rw-r--r--    1 ftp ftp            9 Jan 01 00:00 a.txt.old\r\n";
  const cut = whole.slice(0, whole.length - ".old\r\n".length);
  const server = startFakeFtp({
    on: {
      LIST: async (_arg, peer) => {
        await peer.reply("150 listing");
        const data = await peer.acceptData();
        await data.write(new TextEncoder().encode(cut));
        data.close();
        await peer.reply("226 done");
      },
    },
  });
  server.dirs.add("/in");
  server.files.set("/in/b.txt", new Uint8Array(5));
  server.files.set("/in/a.txt.old", new Uint8Array(9));
  try {
    const check = await checkRemote({
      jobs: [{ id: 1, source: "/local/a.txt", destination: "/in/a.txt", size: 9, mtimeMs: T }],
      login: server.login,
      rule: "size+mtime",
      timeoutMs: 10_000,
      retries: 1,
      connections: 1,
    });
    assert.deepEqual(check.skipped, []);
    assert.deepEqual(check.send.map((j) => j.id), [1]);
    // Asked one by one instead: SIZE says there is no such file.
    assert.ok(server.commands.includes("SIZE /in/a.txt"), server.commands.join("\n"));
  } finally {
    await server.close();
  }
});
