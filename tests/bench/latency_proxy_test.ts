/**
 * The benchmark's latency proxy (bench/latency_proxy.ts): passive replies
 * rewritten to its own data listeners, bytes delivered intact both ways, no
 * reply sooner than one RTT, round trips counted as its module doc defines
 * them, and only loopback targets. Against a scripted FTP server, so every
 * count is exact.
 *
 * @module
 */

import assert from "node:assert/strict";
import { roundTrips, startLatencyProxy } from "../../bench/latency_proxy.ts";

const enc = new TextEncoder();
const dec = new TextDecoder();

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** Reads CRLF lines from a connection. */
class Lines {
  #buf = "";
  constructor(readonly conn: Deno.Conn) {}

  async next(): Promise<string | null> {
    const b = new Uint8Array(4096);
    while (!this.#buf.includes("\r\n")) {
      const n = await this.conn.read(b);
      if (n === null) return null;
      this.#buf += dec.decode(b.subarray(0, n));
    }
    const i = this.#buf.indexOf("\r\n");
    const line = this.#buf.slice(0, i);
    this.#buf = this.#buf.slice(i + 2);
    return line;
  }
}

async function readAll(conn: Deno.Conn): Promise<Uint8Array> {
  const parts: number[] = [];
  const b = new Uint8Array(4096);
  for (;;) {
    const n = await conn.read(b);
    if (n === null) return new Uint8Array(parts);
    parts.push(...b.subarray(0, n));
  }
}

/**
 * A minimal FTP server on 127.0.0.1: one session at a time, replies in order; EPSV/PASV open a
 * passive listener; STOR stores what the data connection brings (in `stored`), then 226.
 */
function scriptedServer() {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const stored = new Map<string, Uint8Array>();
  const passivePorts: number[] = [];
  const commands: string[] = [];
  const done = (async () => {
    for await (const conn of listener) {
      const lines = new Lines(conn);
      let passive: Deno.Listener | undefined;
      await writeAll(conn, enc.encode("220 scripted\r\n"));
      for (;;) {
        const line = await lines.next();
        if (line === null) break;
        commands.push(line);
        const [verb, ...rest] = line.split(" ");
        const arg = rest.join(" ");
        let reply: string;
        switch (verb) {
          case "EPSV":
          case "PASV": {
            passive = Deno.listen({ hostname: "127.0.0.1", port: 0 });
            const p = (passive.addr as Deno.NetAddr).port;
            passivePorts.push(p);
            reply = verb === "EPSV"
              ? `229 Entering Extended Passive Mode (|||${p}|)`
              // A host that is not loopback: the proxy must never use it.
              : `227 Entering Passive Mode (192,0,2,7,${p >> 8},${p & 255}).`;
            break;
          }
          case "STOR": {
            const data = await passive!.accept();
            passive!.close();
            await writeAll(conn, enc.encode("150 Ok to send data.\r\n"));
            stored.set(arg, await readAll(data));
            data.close();
            reply = "226 Transfer complete.";
            break;
          }
          case "SIZE":
            reply = `213 ${stored.get(arg)?.length ?? 0}`;
            break;
          case "QUIT":
            await writeAll(conn, enc.encode("221 Goodbye.\r\n"));
            conn.close();
            reply = "";
            break;
          default:
            reply = "200 Ok.";
        }
        if (verb === "QUIT") break;
        await writeAll(conn, enc.encode(reply + "\r\n"));
      }
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    stored,
    passivePorts,
    commands,
    async close() {
      listener.close();
      await done.catch(() => {});
    },
  };
}

Deno.test("latency proxy: passive replies rewritten, bytes intact, round trips counted", async () => {
  const server = scriptedServer();
  const oneWayMs = 15;
  const proxy = startLatencyProxy({ host: "127.0.0.1", port: server.port }, { oneWayMs });
  try {
    const ctl = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
    const lines = new Lines(ctl);
    const send = (s: string) => writeAll(ctl, enc.encode(s));
    assert.equal(await lines.next(), "220 scripted"); // open: 1
    const t0 = performance.now();
    await send("USER bench\r\n"); // turn 2
    assert.equal(await lines.next(), "200 Ok.");
    // A reply cannot come back before one round trip.
    assert.ok(performance.now() - t0 >= 2 * oneWayMs, "reply sooner than one RTT");

    const files = [
      { verb: "EPSV", path: "/a.bin", bytes: enc.encode("a".repeat(100_000)) },
      { verb: "PASV", path: "/b.bin", bytes: enc.encode("b".repeat(3)) },
    ];
    for (const f of files) {
      await send(`${f.verb}\r\n`); // turn
      const reply = (await lines.next())!;
      const m = f.verb === "EPSV"
        ? reply.match(/^229 .*\(\|\|\|(\d+)\|\)$/)
        : reply.match(/^227 .*\(127,0,0,1,(\d+),(\d+)\)\.$/);
      assert.ok(m, `passive reply not rewritten to 127.0.0.1: ${reply}`);
      const port = f.verb === "EPSV" ? Number(m[1]) : Number(m[1]) * 256 + Number(m[2]);
      assert.notEqual(port, server.passivePorts.at(-1), "data must go through the proxy");
      const data = await Deno.connect({ hostname: "127.0.0.1", port }); // open
      await send(`STOR ${f.path}\r\n`); // turn (after the passive reply)
      assert.equal(await lines.next(), "150 Ok to send data.");
      await writeAll(data, f.bytes); // turn (after the 150)
      data.close();
      await send(`SIZE ${f.path}\r\nNOOP\r\n`); // same turn: nothing heard since the data
      assert.equal(await lines.next(), "226 Transfer complete.");
      assert.equal(await lines.next(), `213 ${f.bytes.length}`);
      assert.equal(await lines.next(), "200 Ok.");
    }
    await send("QUIT\r\n"); // turn
    assert.equal(await lines.next(), "221 Goodbye.");
    assert.equal(await lines.next(), null);
    ctl.close();
    await proxy.close();

    for (const f of files) assert.deepEqual(server.stored.get(f.path), f.bytes);
    assert.deepEqual(server.commands, [
      "USER bench",
      "EPSV",
      "STOR /a.bin",
      "SIZE /a.bin",
      "NOOP",
      "PASV",
      "STOR /b.bin",
      "SIZE /b.bin",
      "NOOP",
      "QUIT",
    ]);
    const s = proxy.stats;
    assert.equal(s.controlConnections, 1);
    assert.equal(s.dataConnections, 2);
    assert.equal(s.passiveReplies, 2);
    assert.equal(s.commands, 10);
    // USER; per file: passive, STOR, data (+SIZE+NOOP); QUIT.
    assert.equal(s.controlTurns, 1 + 2 * 2 + 1);
    assert.equal(s.dataTurns, 2);
    assert.equal(roundTrips(s), 3 + 6 + 2);
    assert.equal(s.maxSessionRoundTrips, roundTrips(s));
  } finally {
    await proxy.close();
    await server.close();
  }
});

Deno.test("latency proxy: refuses a target that is not loopback", () => {
  assert.throws(
    () => startLatencyProxy({ host: "192.0.2.7", port: 21 }, { oneWayMs: 1 }),
    /only forwards to loopback/,
  );
});

Deno.test("blind mode: the control port and every passive port relayed from 127.0.0.1, nothing rewritten", async () => {
  // A "server" on 127.0.0.3: a control port that answers with an EPSV reply naming its
  // passive port, and that passive port, which echoes what it gets back, reversed.
  const control = Deno.listen({ hostname: "127.0.0.3", port: 0 });
  const port = (control.addr as Deno.NetAddr).port;
  const passive = Deno.listen({ hostname: "127.0.0.3", port: 0 });
  const dataPort = (passive.addr as Deno.NetAddr).port;
  const served = (async () => {
    const c = await control.accept();
    await writeAll(c, enc.encode(`229 Entering Extended Passive Mode (|||${dataPort}|)\r\n`));
    const d = await passive.accept();
    await writeAll(d, (await readAll(d)).reverse());
    d.close();
    c.close();
  })();
  const proxy = startLatencyProxy({ host: "127.0.0.3", port, dataPorts: [dataPort, dataPort] }, {
    oneWayMs: 5,
  });
  try {
    assert.equal(proxy.port, port);
    const c = await Deno.connect({ hostname: "127.0.0.1", port });
    // Not rewritten: the port is the server's own, reachable on 127.0.0.1 through the proxy.
    assert.equal(await new Lines(c).next(), `229 Entering Extended Passive Mode (|||${dataPort}|)`);
    const d = await Deno.connect({ hostname: "127.0.0.1", port: dataPort });
    await writeAll(d, enc.encode("abc"));
    await d.closeWrite();
    assert.equal(dec.decode(await readAll(d)), "cba");
    d.close();
    c.close();
    await served;
  } finally {
    await proxy.close();
    control.close();
    passive.close();
  }
  assert.equal(proxy.stats.controlConnections, 1);
  assert.equal(proxy.stats.dataConnections, 1);
  assert.equal(proxy.stats.passiveReplies, 0);
  assert.throws(
    () => startLatencyProxy({ host: "127.0.0.1", port: 1, dataPorts: [2, 2] }, { oneWayMs: 1 }),
    /another loopback address/,
  );
});
