import assert from "node:assert/strict";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { Client, enterPassiveModeIPv4, FTPError } from "basic-ftp";
import { uploadFrom } from "basic-ftp/dist/transfer.js";
import { type EmbeddedServer, startEmbeddedServer } from "../../src/server/embedded_server.ts";
import { connect, randomBytes, sha256, withClient, withServer } from "../helpers/embedded.ts";

const UTF8_PATH = "/a/План/日本語 café ☕ #%.txt";

/** `fn` with a local temp file holding `bytes`, removed afterwards. */
async function withLocalFile(bytes: Uint8Array, fn: (path: string) => Promise<void>) {
  const path = await Deno.makeTempFile({ prefix: "ftpbatch-local-" });
  try {
    await Deno.writeFile(path, bytes);
    await fn(path);
  } finally {
    await Deno.remove(path);
  }
}

/** Upload in the same session with REST offset + STOR (basic-ftp has no API for it). */
async function restStor(client: Client, local: string, remotePath: string, offset: number) {
  await client.prepareTransfer(client.ftp);
  await client.send(`REST ${offset}`);
  return uploadFrom(createReadStream(local, { start: offset }), {
    ftp: client.ftp,
    // deno-lint-ignore no-explicit-any
    tracker: (client as any)._progressTracker,
    command: "STOR",
    remotePath,
    type: "upload",
  });
}

/**
 * A cut must fail the upload, never look complete. basic-ftp normally sees the RST on the data
 * connection (EPIPE/ECONNRESET) and closes the client; a client that already sent everything may
 * read the 426 first. Either way: reconnect if needed and go on.
 */
async function expectCut(client: Client, server: EmbeddedServer, upload: Promise<unknown>) {
  const err = await upload.then(() => assert.fail("the cut upload looked complete"), (e) => e);
  assert.ok(
    err instanceof FTPError ? err.code === 426 : ["EPIPE", "ECONNRESET"].includes(err.code),
    `unexpected error: ${err}`,
  );
  if (client.closed) await client.access({ host: server.host, port: server.port });
}

/** Expect an FTPError with `code`. */
async function rejectsWith(p: Promise<unknown>, code: number) {
  await assert.rejects(p, (e) => e instanceof FTPError && e.code === code);
}

Deno.test("UTF-8 nested names: upload, SIZE and bytes on disk", async () => {
  await withClient({}, async (client, server) => {
    const names = [UTF8_PATH, "/emoji 🚀/-leading dash.bin", "/a/-x", '/q"uote.txt'];
    for (const [i, remote] of names.entries()) {
      const bytes = randomBytes(10_000 + i * 70_001);
      await client.ensureDir(remote.slice(0, remote.lastIndexOf("/")) || "/");
      await client.uploadFrom(Readable.from([bytes]), remote);
      assert.equal(await client.size(remote), bytes.length, remote);
      const onDisk = await Deno.readFile(join(server.root, remote));
      assert.equal(await sha256(onDisk), await sha256(bytes), remote);
    }
    assert.ok(server.stats.commands.includes(`STOR ${UTF8_PATH}`));
  });
});

Deno.test("cutDataAt + REST/STOR resume gives a byte-identical file", async () => {
  const bytes = randomBytes(300_000);
  const cutAt = 100_003;
  await withLocalFile(
    bytes,
    (local) =>
      withClient({ faults: { cutDataAt: { byte: cutAt } } }, async (client, server) => {
        await client.ensureDir("/a/План");
        await expectCut(client, server, client.uploadFrom(local, UTF8_PATH));
        const disk = join(server.root, UTF8_PATH);
        assert.deepEqual(await Deno.readFile(disk), bytes.subarray(0, cutAt));
        assert.equal(await client.size(UTF8_PATH), cutAt);

        const res = await restStor(client, local, UTF8_PATH, cutAt);
        assert.equal(res.code, 226);
        assert.equal(await sha256(await Deno.readFile(disk)), await sha256(bytes));
        const cmds = server.stats.commands;
        assert.deepEqual(cmds.slice(cmds.lastIndexOf(`REST ${cutAt}`)), [
          `REST ${cutAt}`,
          `STOR ${UTF8_PATH}`,
        ]);
      }),
  );
});

Deno.test("REST/STOR truncates what lies beyond the upload's end", async () => {
  const bytes = randomBytes(50_000);
  await withLocalFile(bytes, (local) =>
    withClient({}, async (client, server) => {
      const disk = join(server.root, "f.bin");
      await Deno.writeFile(disk, randomBytes(80_000)); // longer, different remote file
      await client.uploadFrom(Readable.from([bytes.subarray(0, 20_000)]), "f.bin");
      await restStor(client, local, "f.bin", 20_000);
      assert.equal(await sha256(await Deno.readFile(disk)), await sha256(bytes));
      // REST on a missing file creates it; the prefix is then a hole of zeros.
      await restStor(client, local, "new.bin", 49_000);
      const created = await Deno.readFile(join(server.root, "new.bin"));
      assert.equal(created.length, 50_000);
      assert.deepEqual(created.subarray(49_000), bytes.subarray(49_000));
    }));
});

Deno.test("cutDataAt + APPE resume; times and path filter", async () => {
  const bytes = randomBytes(200_000);
  await withLocalFile(
    bytes,
    (local) =>
      withClient(
        { faults: { cutDataAt: { byte: 70_000, times: 2, path: /\.part$/ } } },
        async (client, server) => {
          await client.uploadFrom(local, "other.bin"); // path does not match: not cut
          assert.equal((await Deno.stat(join(server.root, "other.bin"))).size, bytes.length);

          await expectCut(client, server, client.uploadFrom(local, "f.part"));
          assert.equal(await client.size("f.part"), 70_000);
          // A resumed upload that starts at the cut byte is cut again there (times: 2).
          await expectCut(
            client,
            server,
            client.appendFrom(local, "f.part", { localStart: 70_000 }),
          );
          assert.equal(await client.size("f.part"), 70_000);
          await client.appendFrom(local, "f.part", { localStart: 70_000 });
          const disk = await Deno.readFile(join(server.root, "f.part"));
          assert.equal(await sha256(disk), await sha256(bytes));
        },
      ),
  );
});

Deno.test("refuseRest / refuseAppe answer 502; FEAT reflects REST support", async () => {
  await withClient({ faults: { refuseRest: true, refuseAppe: true } }, async (client, server) => {
    await rejectsWith(client.send("REST 10"), 502);
    await rejectsWith(client.appendFrom(Readable.from(["x"]), "x.txt"), 502);
    assert.equal((await client.features()).has("REST"), false);
    server.faults.refuseRest = false; // faults are live
    assert.equal((await client.send("REST 10")).code, 350);
    assert.equal((await client.features()).get("REST"), "STREAM");
  });
});

Deno.test("maxConnections=2 refuses a third login with 421", async () => {
  await withServer({ faults: { maxConnections: 2 } }, async (server) => {
    const a = await connect(server);
    const b = await connect(server);
    const c = new Client(10_000);
    try {
      await rejectsWith(c.access({ host: server.host, port: server.port }), 421);
      a.close(); // frees a slot once the server sees the close
      await new Promise((r) => setTimeout(r, 100));
      await c.access({ host: server.host, port: server.port });
      assert.equal(server.stats.logins, 3);
      assert.equal(server.stats.peakConnections, 2);
    } finally {
      a.close();
      b.close();
      c.close();
    }
  });
});

/** A source that trickles `n` chunks so that parallel uploads really overlap. */
function slowSource(n: number, chunk: Uint8Array): Readable {
  return Readable.from((async function* () {
    for (let i = 0; i < n; i++) {
      await new Promise((r) => setTimeout(r, 20));
      yield chunk;
    }
  })());
}

Deno.test("peakConnections / peakTransfers count real concurrency, also across servers", async () => {
  await withServer({}, async (one) => {
    await withServer({}, async (two) => {
      const chunk = randomBytes(4096);
      const clients = await Promise.all([connect(one), connect(one), connect(one), connect(two)]);
      try {
        // Sequential uploads on one connection: one transfer at a time.
        await clients[0].uploadFrom(slowSource(3, chunk), "seq1");
        await clients[0].uploadFrom(slowSource(3, chunk), "seq2");
        assert.equal(one.stats.peakTransfers, 1);
        await Promise.all(clients.map((c, i) => c.uploadFrom(slowSource(10, chunk), `p${i}`)));
        assert.equal(one.stats.peakConnections, 3);
        assert.equal(one.stats.peakTransfers, 3);
        assert.equal(two.stats.peakTransfers, 1);
        assert.equal((await Deno.stat(join(two.root, "p3"))).size, 40_960);
      } finally {
        clients.forEach((c) => c.close());
      }
    });
  });
});

Deno.test("rejectOptsUtf8: OPTS UTF8 ON gets 501, UTF-8 names still stored", async () => {
  await withClient({ faults: { rejectOptsUtf8: true } }, async (client, server) => { // basic-ftp ignores the 501
    assert.ok(server.stats.commands.includes("OPTS UTF8 ON"));
    await rejectsWith(client.send("OPTS UTF8 ON"), 501);
    await client.ensureDir("/a/План");
    await client.uploadFrom(Readable.from([new TextEncoder().encode("hi")]), UTF8_PATH);
    assert.equal(await Deno.readTextFile(join(server.root, UTF8_PATH)), "hi");
  });
});

Deno.test("closeControlOnStore closes the session once; reconnect works", async () => {
  await withClient({ faults: { closeControlOnStore: { after: 2 } } }, async (client, server) => {
    await client.uploadFrom(Readable.from(["one"]), "1.txt");
    await assert.rejects(
      client.uploadFrom(Readable.from(["two"]), "2.txt"),
      (e) => !(e instanceof FTPError),
    );
    assert.equal(client.closed, true);
    await client.access({ host: server.host, port: server.port });
    await client.uploadFrom(Readable.from(["two"]), "2.txt");
    await client.uploadFrom(Readable.from(["three"]), "3.txt"); // 2nd STOR of session 2: times spent
    assert.equal(await Deno.readTextFile(join(server.root, "3.txt")), "three");
  });
});

Deno.test("PASV works; paths cannot leave root; login is checked", async () => {
  await withServer({ user: "u", password: "p" }, async (server) => {
    await rejectsWith(connect(server, { user: "u", password: "wrong" }), 530);
    await rejectsWith(connect(server), 530); // no anonymous when a user is configured
    const client = await connect(server, { user: "u", password: "p" });
    try {
      client.prepareTransfer = enterPassiveModeIPv4;
      await client.uploadFrom(Readable.from(["esc"]), "../../../escape.txt");
      assert.equal(await Deno.readTextFile(join(server.root, "escape.txt")), "esc");
      assert.ok(server.stats.commands.includes("PASV"));
      assert.ok(server.stats.commands.includes("PASS ***"));
    } finally {
      client.close();
    }
  });
});

Deno.test("close() ends connected clients and transfers, frees the port; host must be loopback", async () => {
  await assert.rejects(startEmbeddedServer({ root: ".", host: "0.0.0.0" }), /loopback/);
  const root = await Deno.makeTempDir();
  const server = await startEmbeddedServer({ root });
  const idle = await connect(server);
  const passiveOnly = await connect(server);
  await passiveOnly.send("EPSV"); // data server that nobody connects to
  const busy = await connect(server);
  const upload = busy.uploadFrom(slowSource(100, randomBytes(1000)), "slow.bin") // ~2 s
    .then(() => "completed", (e: Error) => e);
  await new Promise((r) => setTimeout(r, 200));
  const started = Date.now();
  await server.close();
  assert.ok(Date.now() - started < 1000, "close() waited for the transfer");
  assert.ok((await upload) instanceof Error);
  await assert.rejects(idle.pwd());
  assert.equal(idle.closed, true);
  // The port is free again.
  Deno.listen({ hostname: "127.0.0.1", port: server.port }).close();
  [idle, passiveOnly, busy].forEach((c) => c.close());
  await Deno.remove(root, { recursive: true });
});

Deno.test("error replies show client paths only, never the server's local folder", async () => {
  await withServer({}, async (server) => {
    await Deno.mkdir(join(server.root, "exists"));
    await Deno.writeTextFile(join(server.root, "f.txt"), "x");
    const client = await connect(server);
    const replies: string[] = [];
    try {
      for (
        const command of [
          "CWD /nope",
          "DELE /nope",
          "RMD /nope",
          "MKD /exists",
          "MKD /nope/a/b",
          "RNFR /nope",
          "MDTM /nope",
          "MFMT 20200102030405 /nope",
          "STAT /nope",
        ]
      ) {
        const err = await client.send(command).then(() => undefined, (e) => e);
        assert.ok(err instanceof FTPError, `${command} should fail`);
        replies.push(`${command} => ${err.message}`);
      }
      await client.send("RNFR /f.txt");
      const rnto = await client.send("RNTO /nope/x").then(() => undefined, (e) => e);
      assert.ok(rnto instanceof FTPError);
      replies.push(`RNTO => ${rnto.message}`);
    } finally {
      client.close();
    }
    const all = replies.join("\n");
    const real = await Deno.realPath(server.root);
    assert.ok(!all.includes(server.root) && !all.includes(real), all);
    // ftp-srv's wording stays, with the client path in it.
    assert.match(all, /CWD \/nope => 550 .*'\/nope'/);
    assert.match(all, /RNTO => 550 .*'\/f\.txt' -> '\/nope\/x'/);
  });
});

Deno.test("MFMT sets a file's time (FEAT lists it); bad input and folders refused; refuseSetTime: 502", async () => {
  await withServer({}, async (server) => {
    await Deno.mkdir(join(server.root, "d"));
    await Deno.writeTextFile(join(server.root, "d", "f 1.txt"), "x");
    const client = await connect(server);
    try {
      assert.match((await client.send("FEAT")).message, /^ MFMT$/m);
      const set = await client.send("MFMT 20200102030405 /d/f 1.txt");
      assert.equal(set.message, "213 Modify=20200102030405; /d/f 1.txt");
      const info = await Deno.stat(join(server.root, "d", "f 1.txt"));
      assert.equal(info.mtime?.toISOString(), "2020-01-02T03:04:05.000Z");
      // Read back over FTP too, as a client's re-run does.
      assert.equal((await client.send("MDTM /d/f 1.txt")).message, "213 20200102030405.000");
      await rejectsWith(client.send("MFMT 20201302030405 /d/f 1.txt"), 501); // month 13
      await rejectsWith(client.send("MFMT /d/f 1.txt"), 501);
      await rejectsWith(client.send("MFMT 20200102030405 /d"), 550);
    } finally {
      client.close();
    }
  });
  await withServer({ faults: { refuseSetTime: true } }, async (server) => {
    await Deno.writeTextFile(join(server.root, "f.txt"), "x");
    const before = (await Deno.stat(join(server.root, "f.txt"))).mtime;
    const client = await connect(server);
    try {
      assert.doesNotMatch((await client.send("FEAT")).message, /MFMT/);
      await rejectsWith(client.send("MFMT 20200102030405 /f.txt"), 502);
    } finally {
      client.close();
    }
    assert.deepEqual((await Deno.stat(join(server.root, "f.txt"))).mtime, before);
  });
});

Deno.test("DELE removes files only, RMD folders only (ftp-srv removed either)", async () => {
  await withServer({}, async (server) => {
    await Deno.mkdir(join(server.root, "empty"));
    await Deno.writeTextFile(join(server.root, "f.txt"), "x");
    const client = await connect(server);
    try {
      await rejectsWith(client.send("DELE /empty"), 550);
      await rejectsWith(client.send("RMD /f.txt"), 550);
      assert.ok((await Deno.stat(join(server.root, "empty"))).isDirectory);
      assert.equal(await Deno.readTextFile(join(server.root, "f.txt")), "x");
      await client.send("DELE /f.txt");
      await client.send("RMD /empty");
      assert.deepEqual([...Deno.readDirSync(server.root)], []);
    } finally {
      client.close();
    }
  });
});
