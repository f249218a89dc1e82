/**
 * Renaming onto an existing file (`rename.ts`) driven by a fake transport
 * (`fake_transport.ts`); the same against a scripted server over TCP, and the
 * refusals that must never delete anything, are in `session_test.ts`.
 */

import assert from "node:assert/strict";
import { FakeTransport, reply } from "./fake_transport.ts";

Deno.test("rename onto a file a Windows server will not replace (553): SIZE, DELE, rename again", async () => {
  const { fake, session } = FakeTransport.session();
  fake.files.set("/d/a.txt", new Uint8Array([1]));
  fake.files.set("/d/.a.part", new Uint8Array([2, 2]));
  let refused = false;
  fake.on.RNFR = () => reply("350 ready");
  fake.on.RNTO = (to, f) => {
    if (!refused && f.files.has(to)) {
      refused = true;
      return reply("553 Cannot create a file when that file already exists.");
    }
    f.files.set(to, f.files.get("/d/.a.part")!);
    f.files.delete("/d/.a.part");
    return reply("250 renamed");
  };
  await session.rename("/d/.a.part", "/d/a.txt");
  assert.deepEqual(fake.log, [
    "RNFR /d/.a.part",
    "RNTO /d/a.txt",
    "SIZE /d/a.txt",
    "DELE /d/a.txt",
    "RNFR /d/.a.part",
    "RNTO /d/a.txt",
  ]);
  assert.deepEqual(fake.files.get("/d/a.txt"), new Uint8Array([2, 2]));
});
