/**
 * Active mode's parts (`src/ftp/active.ts`): the EPRT and PORT lines, PORT
 * after a server that does not take EPRT, the NAT address announced, a port
 * from the configured range, and only the server's address let in.
 */

import assert from "node:assert/strict";
import { ActiveMode, eprtLine, portLine } from "../../src/ftp/active.ts";
import { FTPError } from "../../src/ftp/errors.ts";
import type { Reply } from "../../src/ftp/reply.ts";

const reply = (message: string): Reply => ({ code: Number(message.slice(0, 3)), message });

Deno.test("EPRT and PORT lines", () => {
  assert.equal(eprtLine("192.0.2.7", 50001), "EPRT |1|192.0.2.7|50001|");
  assert.equal(eprtLine("::1", 2121), "EPRT |2|::1|2121|");
  assert.equal(portLine("192.0.2.7", 50001), "PORT 192,0,2,7,195,81");
  assert.equal(portLine("::1", 2121), undefined);
});

Deno.test("a server without EPRT gets PORT, and no EPRT again; the NAT address is announced", async () => {
  const sent: string[] = [];
  const mode = new ActiveMode(
    { address: "203.0.113.9", ports: [41000, 41009] },
    "127.0.0.1",
    "127.0.0.1",
    2000,
  );
  const command = (line: string) => {
    sent.push(line);
    return Promise.resolve(reply(line.startsWith("EPRT") ? "502 no" : "200 PORT ok"));
  };
  for (let i = 0; i < 2; i++) {
    const data = await mode.open(command);
    data.close();
    await assert.rejects(data.connecting);
  }
  assert.equal(mode.eprt, false);
  assert.equal(sent.length, 3);
  assert.match(sent[0], /^EPRT \|1\|203\.0\.113\.9\|410\d\d\|$/);
  for (const line of sent.slice(1)) {
    const m = line.match(/^PORT 203,0,113,9,(\d+),(\d+)$/);
    assert.ok(m, line);
    const port = Number(m[1]) * 256 + Number(m[2]);
    assert.ok(port >= 41000 && port <= 41009, `${port}`);
  }
});

Deno.test("PORT refused too: the server's FTPError, the listener closed", async () => {
  const mode = new ActiveMode({}, "127.0.0.1", "127.0.0.1", 2000);
  const command = (line: string) =>
    Promise.resolve(reply(line.startsWith("EPRT") ? "500 no" : "500 Illegal PORT command."));
  await assert.rejects(mode.open(command), (e) => e instanceof FTPError && e.code === 500);
});

Deno.test("a connection from any address but the server's is turned away", async () => {
  let port = 0;
  // The server is 127.0.0.2; a connection from 127.0.0.1 is someone else's.
  const mode = new ActiveMode({}, "127.0.0.1", "127.0.0.2", 5000);
  const data = await mode.open((line) => {
    port = Number(line.split("|")[3]);
    return Promise.resolve(reply("200 EPRT ok"));
  });
  let settled = false;
  data.connecting.then(() => settled = true, () => settled = true);
  const stranger = await Deno.connect({ hostname: "127.0.0.1", port });
  // Closed by the listener, and the transfer still waits for the server.
  assert.equal(await stranger.read(new Uint8Array(1)).catch(() => null), null);
  stranger.close();
  assert.equal(settled, false);
  data.close();
  await assert.rejects(data.connecting, /abandoned/);
});
