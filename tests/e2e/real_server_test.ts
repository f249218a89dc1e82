/**
 * basic-ftp against a real vsftpd (tests/helpers/real_server.ts). Each test
 * is ignored (the reason in its name) where vsftpd or root is missing, unless
 * FTPBATCH_REAL_SERVER=required.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { Client, FTPError } from "basic-ftp";
import { randomBytes, sha256 } from "../helpers/embedded.ts";
import { type RealServer, realServerTest } from "../helpers/real_server.ts";

function source(bytes: Uint8Array): Readable {
  return Readable.from([Buffer.from(bytes)]);
}

async function connect(server: RealServer): Promise<Client> {
  const client = new Client(10_000);
  client.ftp.verbose = false;
  await client.access({
    host: server.host,
    port: server.port,
    user: server.user,
    password: server.password,
    secure: false,
  });
  return client;
}

async function assertOnDisk(
  server: RealServer,
  remotePath: string,
  expected: Uint8Array,
): Promise<void> {
  const onDisk = await Deno.readFile(`${server.root}${remotePath}`);
  assert.equal(onDisk.length, expected.length, remotePath);
  assert.equal(await sha256(onDisk), await sha256(expected), remotePath);
}

const NAMES = ["План.txt", "日本語.txt", "café ☕ #%.txt"];
const NESTED = "/Отчёты/2024/日本語 папка/naïve";

realServerTest("real server: UTF-8 names, nested non-ASCII folders, bytes on disk", {
  kind: "vsftpd",
}, async (server) => {
  const client = await connect(server);
  try {
    const feat = await client.features();
    assert.ok(feat.has("UTF8"), `FEAT: ${[...feat.keys()].join(",")}`);
    assert.ok(feat.has("SIZE") && feat.has("REST") && feat.has("EPSV"));
    const opts = await client.send("OPTS UTF8 ON");
    assert.equal(opts.code, 200);
    assert.equal(opts.message, "200 Always in UTF8 mode.");

    await client.ensureDir(NESTED);
    assert.equal(await client.pwd(), NESTED);
    const payloads = new Map<string, Uint8Array>();
    for (const [i, name] of NAMES.entries()) {
      const bytes = randomBytes(1000 + i * 4096);
      payloads.set(name, bytes);
      await client.uploadFrom(source(bytes), name);
    }
    const listed = (await client.list()).map((f) => f.name).sort();
    assert.deepEqual(listed, [...NAMES].sort());
    for (const [name, bytes] of payloads) {
      assert.equal(await client.size(name), bytes.length);
      assert.equal(await client.size(`${NESTED}/${name}`), bytes.length);
      await assertOnDisk(server, `${NESTED}/${name}`, bytes);
    }
    // Names are stored as the exact UTF-8 bytes sent (NFC here).
    const onDisk = [];
    for await (const e of Deno.readDir(`${server.root}${NESTED}`)) {
      onDisk.push(e.name);
    }
    assert.deepEqual(onDisk.sort(), [...NAMES].sort());
    const st = await Deno.stat(`${server.root}${NESTED}/${NAMES[0]}`);
    assert.equal(st.uid, server.uid);
  } finally {
    client.close();
  }
});

realServerTest("real server: REST+STOR resume, APPE, rename over existing, DELE, MDTM", {
  kind: "vsftpd",
}, async (server) => {
  const client = await connect(server);
  try {
    const full = randomBytes(300_000);
    // Resume: a partial upload, then REST <n> + STOR of the rest.
    await client.uploadFrom(source(full.subarray(0, 100_000)), "resume.bin");
    assert.equal(await client.size("resume.bin"), 100_000);
    const rest = await client.send("REST 100000");
    assert.equal(rest.message, "350 Restart position accepted (100000).");
    await client.uploadFrom(source(full.subarray(100_000)), "resume.bin");
    assert.equal(await client.size("resume.bin"), full.length);
    await assertOnDisk(server, "/resume.bin", full);

    // APPE
    await client.uploadFrom(source(full.subarray(0, 1000)), "append.bin");
    await client.appendFrom(source(full.subarray(1000, 5000)), "append.bin");
    await assertOnDisk(server, "/append.bin", full.subarray(0, 5000));

    // RNFR/RNTO onto an existing file replaces it (atomic upload pattern).
    const fresh = randomBytes(777);
    await client.uploadFrom(source(fresh), ".append.bin.part");
    await client.rename(".append.bin.part", "append.bin");
    await assertOnDisk(server, "/append.bin", fresh);
    await assert.rejects(Deno.stat(`${server.root}/.append.bin.part`));

    // Overwrite with STOR (shorter file truncates).
    await client.uploadFrom(source(fresh.subarray(0, 10)), "resume.bin");
    await assertOnDisk(server, "/resume.bin", fresh.subarray(0, 10));

    // MDTM get/set, DELE, missing file errors
    const mdtm = await client.send("MDTM 20200102030405 append.bin");
    assert.equal(mdtm.code, 213);
    const st = await Deno.stat(`${server.root}/append.bin`);
    assert.equal(st.mtime?.toISOString(), "2020-01-02T03:04:05.000Z");
    await client.remove("append.bin");
    await assert.rejects(Deno.stat(`${server.root}/append.bin`));
    await assert.rejects(client.size("append.bin"), (e: unknown) => {
      assert.ok(e instanceof FTPError);
      assert.equal(e.code, 550);
      return true;
    });
    // No MLSD, HASH, XCRC or MFMT on vsftpd 3.0.3.
    const hash = await client.send("HASH resume.bin").catch((e) => e);
    assert.ok(hash instanceof FTPError && hash.code === 500);
  } finally {
    client.close();
  }
});

realServerTest("real server: wrong password is 530", { kind: "vsftpd" }, async (server) => {
  const client = new Client(10_000);
  try {
    await assert.rejects(
      client.access({
        host: server.host,
        port: server.port,
        user: server.user,
        password: "wrong",
      }),
      (e: unknown) => {
        assert.ok(e instanceof FTPError);
        assert.equal(e.code, 530);
        return true;
      },
    );
  } finally {
    client.close();
  }
});

realServerTest(
  "real server: two clients upload in parallel",
  { kind: "vsftpd" },
  async (server) => {
    const [a, b] = await Promise.all([connect(server), connect(server)]);
    try {
      const files = [0, 1].map((i) =>
        [0, 1, 2].map((j) => ({
          path: `/par/c${i}/${NAMES[j]}`,
          bytes: randomBytes(512 * 1024 + j * 1000 + i),
        }))
      );
      await Promise.all([a, b].map(async (client, i) => {
        await client.ensureDir(`/par/c${i}`);
        for (const f of files[i]) await client.uploadFrom(source(f.bytes), f.path);
      }));
      for (const f of files.flat()) {
        await assertOnDisk(server, f.path, f.bytes);
        assert.equal(await a.size(f.path), f.bytes.length);
      }
    } finally {
      a.close();
      b.close();
    }
  },
);

realServerTest("real server: maxPerIp=2 refuses a third login with 421", {
  kind: "vsftpd",
  maxPerIp: 2,
}, async (server) => {
  const [a, b] = await Promise.all([connect(server), connect(server)]);
  const c = new Client(10_000);
  try {
    const err = await connect(server).then(
      (extra) => {
        extra.close();
        return null;
      },
      (e: unknown) => e,
    );
    assert.ok(err instanceof FTPError, `expected FTPError, got ${err}`);
    assert.equal(err.code, 421);
    assert.equal(
      err.message,
      "421 There are too many connections from your internet address.",
    );
    // Still fine for the two that are in; a slot frees once one leaves.
    await a.send("NOOP");
    a.close();
    let ok = false;
    for (let i = 0; i < 50 && !ok; i++) {
      ok = await c.access({
        host: server.host,
        port: server.port,
        user: server.user,
        password: server.password,
      }).then(() => true, () => false);
      if (!ok) await new Promise((r) => setTimeout(r, 50));
    }
    assert.ok(ok, "a login after one client left");
    await b.send("NOOP");
  } finally {
    a.close();
    b.close();
    c.close();
  }
});

realServerTest("real server: stop() cuts clients and closes the port, start() brings it back", {
  kind: "vsftpd",
}, async (server) => {
  const before = await connect(server);
  const after = new Client(10_000);
  try {
    const bytes = randomBytes(4096);
    await before.uploadFrom(source(bytes), "/kept.bin");
    await server.stop();
    await assert.rejects(before.list());
    await assert.rejects(
      Deno.connect({ hostname: server.host, port: server.port }),
      Deno.errors.ConnectionRefused,
    );
    await server.start();
    await after.access({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
    });
    assert.equal(await after.size("/kept.bin"), bytes.length);
    await after.uploadFrom(source(bytes), "/again.bin");
    await assertOnDisk(server, "/again.bin", bytes);
  } finally {
    before.close();
    after.close();
  }
});
