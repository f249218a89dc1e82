/**
 * Passive replies read (`passive.ts`), and the EPSV -> PASV choice remembered
 * per connection.
 */

import assert from "node:assert/strict";
import { FTPError } from "../../src/ftp/errors.ts";
import {
  epsvFellBack,
  epsvMemory,
  epsvPort,
  PassiveMode,
  pasvPort,
} from "../../src/ftp/passive.ts";
import { reply } from "./fake_transport.ts";

Deno.test("epsvPort: `(|||port|)`, any delimiter RFC 2428 allows; nothing from other replies", () => {
  assert.equal(epsvPort(reply("229 Entering Extended Passive Mode (|||40000|)")), 40000);
  assert.equal(epsvPort(reply("229 Entering Extended Passive Mode (!!!6446!)")), 6446);
  assert.equal(epsvPort(reply("229 (|||1|) ok")), 1);
  assert.equal(epsvPort(reply("229 Entering Extended Passive Mode (|!|40000|)")), undefined);
  assert.equal(epsvPort(reply("229 Entering Extended Passive Mode")), undefined);
  assert.equal(epsvPort(reply("500 Unknown command (|||40000|)")), undefined);
});

Deno.test("pasvPort: p1*256+p2; the host in the reply is ignored", () => {
  assert.equal(pasvPort(reply("227 Entering Passive Mode (10,0,0,1,156,64)")), 40000);
  assert.equal(pasvPort(reply("227 Entering Passive Mode 127,0,0,1,0,21")), 21);
  assert.equal(pasvPort(reply("227 Entering Passive Mode")), undefined);
  assert.equal(pasvPort(reply("200 (127,0,0,1,0,21)")), undefined);
});

/** A `command` that answers from `answers` by verb, logging what it was sent. */
function server(answers: Record<string, string>, log: string[]) {
  return (line: string) => {
    log.push(line);
    return Promise.resolve(reply(answers[line]));
  };
}

Deno.test("PassiveMode: EPSV while it works", async () => {
  const log: string[] = [];
  const mode = new PassiveMode();
  const send = server({ EPSV: "229 ok (|||5000|)" }, log);
  assert.equal(await mode.port(send), 5000);
  assert.equal(await mode.port(send), 5000);
  assert.equal(mode.epsv, true);
  assert.deepEqual(log, ["EPSV", "EPSV"]);
});

Deno.test("PassiveMode: a server without EPSV gets PASV, and no EPSV again", async () => {
  const log: string[] = [];
  const mode = new PassiveMode();
  const send = server({ EPSV: "502 not implemented", PASV: "227 ok (127,0,0,1,0,99)" }, log);
  assert.equal(await mode.port(send), 99);
  assert.equal(await mode.port(send), 99);
  assert.equal(mode.epsv, false);
  assert.deepEqual(log, ["EPSV", "PASV", "PASV"]);
});

Deno.test("PassiveMode: PASV refused too is the server's FTPError", async () => {
  const send = server({ EPSV: "500 no", PASV: "421 closing" }, []);
  await assert.rejects(
    new PassiveMode().port(send),
    (e) => e instanceof FTPError && e.code === 421,
  );
});

Deno.test("PassiveMode.open: EPSV's port unreachable, PASV once, learned for the whole run", async () => {
  const log: string[] = [];
  const learned = epsvMemory();
  const mode = new PassiveMode({ learned });
  const send = server({ EPSV: "229 ok (|||5000|)", PASV: "227 ok (127,0,0,1,0,99)" }, log);
  const tried: number[] = [];
  const connect = (port: number) => {
    tried.push(port);
    return port === 5000 ? Promise.reject(new Error("refused")) : Promise.resolve(`conn ${port}`);
  };
  assert.equal(await (await mode.open(send, connect)).connecting, "conn 99");
  assert.equal(epsvFellBack(learned), true);
  // Another connection of the same run starts with PASV.
  const other = new PassiveMode({ learned });
  assert.equal(await (await other.open(send, connect)).connecting, "conn 99");
  assert.deepEqual(log, ["EPSV", "PASV", "PASV"]);
  assert.deepEqual(tried, [5000, 99, 99]);
});

Deno.test("PassiveMode.open: the first EPSV connection is awaited, later ones are not", async () => {
  const mode = new PassiveMode({ learned: epsvMemory() });
  const send = server({ EPSV: "229 ok (|||5000|)" }, []);
  let pending = 0;
  const connect = () => {
    pending++;
    return new Promise<string>((resolve) => setTimeout(() => resolve("conn"), 10));
  };
  const first = await mode.open(send, connect);
  assert.equal(mode.proven, true);
  assert.equal(await first.connecting, "conn");
  // Proven: handed back still connecting, so the transfer command can go out meanwhile.
  let settled = false;
  const second = await mode.open(send, connect);
  second.connecting.then(() => settled = true);
  assert.equal(settled, false);
  assert.equal(await second.connecting, "conn");
  assert.equal(pending, 2);
});

Deno.test('PassiveMode: "epsv": false sends no EPSV; PASV failing too is thrown', async () => {
  const log: string[] = [];
  const mode = new PassiveMode({ epsv: false });
  const send = server({ PASV: "227 ok (127,0,0,1,0,99)" }, log);
  assert.equal(await mode.port(send), 99);
  assert.deepEqual(log, ["PASV"]);
  const learned = epsvMemory();
  const broken = new PassiveMode({ learned });
  const both = server({ EPSV: "229 ok (|||5000|)", PASV: "227 ok (127,0,0,1,0,99)" }, []);
  await assert.rejects(
    broken.open(both, () => Promise.reject(new Error("unreachable"))),
    /unreachable/,
  );
  assert.equal(epsvFellBack(learned), false, "nothing learned when PASV fails as well");
});
