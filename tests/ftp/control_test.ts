/**
 * The control connection against a scripted server: how replies are read
 * (multi-line, split across reads, pipelined, 1xx), and that a hostile server
 * (endless reply, endless line, slow drip) or a dropped connection ends in a
 * clear error with the connection closed.
 */

import assert from "node:assert/strict";
import { Control } from "../../src/ftp/control.ts";
import { MAX_LINE, MAX_REPLY_LINES } from "../../src/ftp/reply_parser.ts";
import { ConnectionLost, ProtocolError } from "../../src/ftp/errors.ts";
import { type Peer, type ScriptedServer, startScriptedServer } from "../helpers/scripted_server.ts";

/** Runs `client` against a server playing `script`; both must finish cleanly. */
async function withControl(
  script: (peer: Peer) => Promise<void>,
  client: (control: Control, server: ScriptedServer) => Promise<void>,
  timeoutMs = 10000,
): Promise<void> {
  const server = startScriptedServer(script);
  const control = new Control(
    await Deno.connect({ hostname: "127.0.0.1", port: server.port }),
    timeoutMs,
  );
  try {
    await client(control, server);
  } finally {
    control.close();
    await server.close();
  }
}

/** Writes until the client goes away (a server that never stops talking). */
async function endless(peer: Peer, piece: string): Promise<void> {
  const chunk = new TextEncoder().encode(piece.repeat(Math.ceil(16384 / piece.length)));
  while (!peer.closed) await peer.raw(chunk);
}

Deno.test("a multi-line reply ends only at `ddd `; lines inside may start with any digits", async () => {
  await withControl(async (peer) => {
    await peer.reply(
      "211-Features:",
      " MDTM",
      "226 inside, not the end",
      "211-still inside",
      "211",
      "211 End",
    );
    await peer.reply("220 next");
  }, async (control) => {
    // A bare `211` ends it too (RFC 959 allows a code alone on the last line).
    const feat = await control.read();
    assert.equal(feat.code, 211);
    assert.deepEqual(feat.message.split("\n"), [
      "211-Features:",
      " MDTM",
      "226 inside, not the end",
      "211-still inside",
      "211",
    ]);
    await control.write("NOOP"); // the first read left `211 End` behind
  }).then(
    () => assert.fail("a reply left in the buffer must put the session out of step"),
    (e) => assert.ok(e instanceof ConnectionLost, String(e)),
  );

  await withControl(async (peer) => {
    await peer.reply("211-Features:", " 211 indented", "211-x", "211 End");
    await peer.expect("NOOP");
    await peer.reply("200 ok");
  }, async (control) => {
    const feat = await control.read();
    assert.equal(feat.code, 211);
    assert.equal(feat.message.split("\n").length, 4);
    assert.equal((await control.send("NOOP")).code, 200);
  });
});

Deno.test("a reply split across TCP reads, one byte per write, UTF-8 split too", async () => {
  const text = "230-Welcome, café ☕ План\r\n230-second line\r\n230 done\r\n";
  await withControl(async (peer) => {
    for (const byte of new TextEncoder().encode(text)) {
      await peer.raw(new Uint8Array([byte]));
      await new Promise((r) => setTimeout(r, 1));
    }
    await peer.expect("NOOP");
    for (const c of "200 ok\r\n") await peer.raw(c);
  }, async (control) => {
    const reply = await control.read();
    assert.equal(reply.code, 230);
    assert.equal(reply.message, "230-Welcome, café ☕ План\n230-second line\n230 done");
    assert.deepEqual(await control.send("NOOP"), { code: 200, message: "200 ok" });
  });
});

Deno.test("pipelined commands get their replies in order, multi-line ones included", async () => {
  await withControl(async (peer) => {
    await peer.reply("220 hi");
    const got = [await peer.next(), await peer.next(), await peer.next()];
    assert.deepEqual(got, ["SIZE /a", "FEAT", "SIZE /b"]);
    // All three answers in one write, so they arrive in one read.
    await peer.raw("213 10\r\n211-Features:\r\n 213 inside\r\n211 End\r\n550 no /b\r\n");
  }, async (control) => {
    await control.read();
    const replies = await control.sendAll(["SIZE /a", "FEAT", "SIZE /b"]);
    assert.deepEqual(replies.map((r) => r.code), [213, 211, 550]);
    assert.equal(replies[0].message, "213 10");
    assert.equal(replies[1].message, "211-Features:\n 213 inside\n211 End");
    assert.equal(replies[2].message, "550 no /b");
  });
});

Deno.test("1xx replies are skipped where a final reply is expected", async () => {
  await withControl(async (peer) => {
    await peer.reply("120 ready in 1 minute", "220 ready");
    await peer.expect("STOR");
    await peer.reply("150 go", "150 go again", "226 done");
  }, async (control) => {
    assert.equal((await control.read()).code, 220);
    assert.equal((await control.send("STOR /x", { preliminary: true })).code, 150);
    assert.equal((await control.read()).code, 226);
  });
});

Deno.test("an endless multi-line reply fails (ProtocolError) and closes the connection", async () => {
  await withControl(async (peer) => {
    await peer.reply("211-start");
    await endless(peer, "211-more and more\r\n");
  }, async (control) => {
    await assert.rejects(
      control.read(),
      (e) => e instanceof ProtocolError && /over/.test(e.message),
    );
    assert.ok(control.closed);
  });
  // A long but finite reply within the cap is fine.
  await withControl(async (peer) => {
    const lines = Array.from({ length: MAX_REPLY_LINES - 2 }, (_, i) => ` line ${i}`);
    await peer.reply("211-start", ...lines, "211 End");
  }, async (control) => {
    assert.equal((await control.read()).message.split("\n").length, MAX_REPLY_LINES);
  });
});

Deno.test("an endless line without CRLF fails (ProtocolError) and closes the connection", async () => {
  await withControl(async (peer) => {
    await peer.raw("220 ");
    await endless(peer, "a");
  }, async (control) => {
    await assert.rejects(control.read(), (e) => e instanceof ProtocolError);
    assert.ok(control.closed);
  });
  await withControl(async (peer) => {
    await peer.reply("220 " + "b".repeat(MAX_LINE - 10));
  }, async (control) => {
    assert.equal((await control.read()).code, 220);
  });
});

Deno.test("a reply dripping one byte at a time still has one deadline", async () => {
  // One byte every 100 ms never leaves the connection idle for the 600 ms timeout,
  // yet the reply never ends: the per-reply deadline must stop it.
  await withControl(async (peer) => {
    await peer.reply("211-start");
    while (!peer.closed) {
      await peer.raw("x");
      await new Promise((r) => setTimeout(r, 100));
    }
  }, async (control) => {
    await assert.rejects(
      control.read(),
      (e) => e instanceof ConnectionLost && /Timeout \(control socket\)/.test(e.message),
    );
    assert.ok(control.closed);
  }, 600);
});

Deno.test("a connection the server dropped while idle: ConnectionLost with idle = true", async () => {
  let dropped!: () => void;
  const gone = new Promise<void>((r) => dropped = r);
  await withControl(async (peer) => {
    await peer.reply("220 hi");
    peer.close();
    dropped();
  }, async (control) => {
    await control.read();
    await gone;
    await new Promise((r) => setTimeout(r, 50)); // the FIN has arrived
    await assert.rejects(
      control.send("NOOP"),
      (e) => e instanceof ConnectionLost && e.idle === true,
    );
    assert.ok(control.closed);
  });
});

Deno.test("after login, a 421 to a command sent while idle is an idle drop", async () => {
  await withControl(async (peer) => {
    await peer.reply("220 hi");
    await peer.expect("NOOP");
    await peer.reply("421 Timeout.");
  }, async (control) => {
    await control.read();
    control.loggedIn = true;
    await assert.rejects(
      control.send("NOOP"),
      (e) => e instanceof ConnectionLost && e.idle === true && /421 Timeout/.test(e.message),
    );
    assert.ok(control.closed);
  });
});

Deno.test("a connection closed in the middle of a reply is not an idle drop", async () => {
  await withControl(async (peer) => {
    await peer.reply("220 hi");
    await peer.expect("FEAT");
    await peer.reply("211-Features:");
    peer.close();
  }, async (control) => {
    await control.read();
    await assert.rejects(
      control.send("FEAT"),
      (e) => e instanceof ConnectionLost && e.idle === false,
    );
  });
});

Deno.test("a reply nobody asked for puts the connection out of step: closed, never reused", async () => {
  await withControl(async (peer) => {
    await peer.reply("220 hi");
    await peer.expect("NOOP");
    await peer.raw("200 ok\r\n226 a second, unasked reply\r\n");
  }, async (control) => {
    await control.read();
    assert.equal((await control.send("NOOP")).code, 200);
    await assert.rejects(
      control.send("SIZE /x"),
      (e) => e instanceof ConnectionLost && /out of step/.test(e.message),
    );
    assert.ok(control.closed);
  });
});

Deno.test("endless 1xx replies before a final one fail (ProtocolError), connection closed", async () => {
  await withControl(async (peer) => {
    await peer.reply("220 hi");
    await peer.expect("STOR");
    await endless(peer, "150 still opening\r\n");
  }, async (control) => {
    await control.read();
    await assert.rejects(control.send("STOR /x"), ProtocolError);
    assert.ok(control.closed);
  });
});
