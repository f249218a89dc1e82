/**
 * A session on the plain-FTP transport (`session.ts`, `store.ts`,
 * `native_transport.ts`, `native_transfer.ts`) against a scripted fake
 * server over loopback TCP: what was sent, in what order, what the server
 * ended up with, and which error each server behaviour turns into.
 */

import assert from "node:assert/strict";
import {
  ConnectionLost,
  FTPError,
  LocalFileError,
  PartialUploadError,
  ProtocolError,
  ResumeRefused,
} from "../../src/ftp/errors.ts";
import { openNativeSession } from "../../src/ftp/native_login.ts";
import type { Session } from "../../src/ftp/session.ts";
import {
  type FakeFtpOptions,
  type Peer,
  readAll,
  type ScriptedServer,
  startFakeFtp,
  startScriptedServer,
} from "../helpers/scripted_server.ts";
import { put, withFile } from "./local_file.ts";

const TIMEOUT = 10000;

/** A session logged in to a fake server with `options`; both closed after `fn`. */
async function withSession(
  options: FakeFtpOptions | ScriptedServer,
  fn: (session: Session, server: ScriptedServer) => Promise<void>,
): Promise<void> {
  const server = "port" in options ? options : startFakeFtp(options);
  let session: Session | undefined;
  try {
    session = await openNativeSession(server.login, TIMEOUT);
    await fn(session, server);
  } finally {
    session?.close();
    await server.close();
  }
}

/**
 * A server whose STOR answers 150, takes the data connection and reads up to 64 KiB of it
 * (`first` bytes), then does what `then` says.
 */
function storThen(
  then: (peer: Peer, data: Deno.TcpConn, first: number) => Promise<void>,
): FakeFtpOptions {
  return {
    on: {
      STOR: async (_arg, peer) => {
        await peer.reply("150 go");
        const data = await peer.acceptData();
        await then(peer, data, (await data.read(new Uint8Array(64 * 1024))) ?? 0);
      },
    },
  };
}

/** Commands after login, verbs only. */
function verbs(peer: Peer): string[] {
  const i = peer.commands.findIndex((c) => c.startsWith("FEAT"));
  return peer.commands.slice(i + 1).map((c) => c.split(" ")[0]);
}

Deno.test("upload: EPSV, STOR, the data, then SIZE after the 226", async () => {
  await withFile(300_000, async (path, bytes) => {
    await withSession({}, async (session, server) => {
      const out = await put(session, path, "/f.bin", bytes.length);
      assert.deepEqual(out, { offset: 0, bytesSent: bytes.length, sizeAfter: { size: 300_000 } });
      assert.deepEqual(server.files.get("/f.bin"), bytes);
      // The first transfer of a connection probes with a NOOP behind its STOR (trailing.ts).
      assert.deepEqual(verbs(server.peers[0]), ["EPSV", "STOR", "NOOP", "SIZE"]);
    });
  });
});

Deno.test("pure-ftpd: no command is sent while the transfer is open (500 to any)", async () => {
  // pure-ftpd answers `500 Unknown command` to (and drops) a command received before its
  // 226; the old client pipelined SIZE behind the data and read that 500 as "no such file".
  // This server answers so even to the probe's NOOP in the STOR's own write: trailing off.
  await withFile(100_000, async (path, bytes) => {
    await withSession({ busyDuringTransfer: true }, async (session, server) => {
      for (const name of ["/a.bin", "/b.bin"]) {
        const out = await put(session, path, name, bytes.length);
        assert.equal(out.sizeAfter?.size, bytes.length);
      }
      assert.deepEqual(server.peers[0].duringTransfer, ["NOOP"]);
      assert.equal(session.abilities.trailing, false);
      assert.deepEqual(server.files.get("/b.bin"), bytes);
    });
  });
});

for (const refusal of ["500 Unknown command", "502 EPSV not implemented"]) {
  Deno.test(`a server without EPSV (${refusal.slice(0, 3)}): PASV, and no EPSV again`, async () => {
    await withFile(5000, async (path, bytes) => {
      const options: FakeFtpOptions = {
        features: ["PASV", "REST STREAM", "SIZE"],
        on: { EPSV: (_arg, peer) => peer.reply(refusal) },
      };
      await withSession(options, async (session, server) => {
        await put(session, path, "/1.bin", bytes.length);
        await put(session, path, "/2.bin", bytes.length);
        assert.deepEqual(verbs(server.peers[0]), [
          ...["EPSV", "PASV", "STOR", "NOOP", "SIZE"],
          ...["PASV", "STOR", "SIZE"],
        ]);
        assert.deepEqual(server.files.get("/2.bin"), bytes);
      });
    });
  });
}

Deno.test("REST resume: only the rest of the file is sent", async () => {
  await withFile(50_000, async (path, bytes) => {
    await withSession({}, async (session, server) => {
      server.files.set("/r.bin", bytes.slice(0, 20_000));
      const out = await put(session, path, "/r.bin", bytes.length, {
        offset: 20_000,
        method: "rest",
      });
      assert.deepEqual(out, { offset: 20_000, bytesSent: 30_000, sizeAfter: { size: 50_000 } });
      assert.deepEqual(server.files.get("/r.bin"), bytes);
      assert.equal(session.abilities.restStore, true);
      assert.deepEqual(verbs(server.peers[0]), ["EPSV", "REST", "STOR", "NOOP", "SIZE"]);
    });
  });
});

Deno.test("REST refused (502): ResumeRefused, no STOR sent", async () => {
  await withFile(1000, async (path, bytes) => {
    const options = { on: { REST: (_: string, p: Peer) => p.reply("502 no REST") } };
    await withSession(options, async (session, server) => {
      await assert.rejects(
        put(session, path, "/r.bin", bytes.length, { offset: 500, method: "rest" }),
        ResumeRefused,
      );
      assert.equal(session.abilities.restStore, false);
      assert.deepEqual(verbs(server.peers[0]), ["EPSV", "REST"]);
    });
  });
});

Deno.test("ProFTPD AllowStoreRestart off: 350 to REST, 451 to STOR and APPE -> full re-send", async () => {
  const notPermitted = (_: string, p: Peer) => {
    p.rest = 0; // a REST applies to the next command only
    return p.reply("451 Append/Restart not permitted, try again");
  };
  const options: FakeFtpOptions = {
    on: {
      STOR: (_arg, peer) => peer.rest > 0 ? notPermitted(_arg, peer) : false,
      APPE: notPermitted,
    },
  };
  await withFile(40_000, async (path, bytes) => {
    await withSession(options, async (session, server) => {
      const partial = bytes.slice(0, 10_000);
      server.files.set("/p.bin", partial);
      await assert.rejects(
        put(session, path, "/p.bin", bytes.length, { offset: 10_000, method: "rest" }),
        (e) => e instanceof ResumeRefused && /451/.test(e.message),
      );
      assert.equal(session.abilities.restStore, false);
      await assert.rejects(
        put(session, path, "/p.bin", bytes.length, { offset: 10_000, method: "appe" }),
        (e) => e instanceof ResumeRefused && /APPE/.test(e.message),
      );
      assert.equal(session.abilities.append, false);
      assert.deepEqual(server.files.get("/p.bin"), partial, "nothing moved while refused");
      const out = await put(session, path, "/p.bin", bytes.length, {
        offset: 10_000,
        method: "restart",
      });
      assert.deepEqual(out, { offset: 0, bytesSent: 40_000, sizeAfter: { size: 40_000 } });
      assert.deepEqual(server.files.get("/p.bin"), bytes);
    });
  });
});

Deno.test("a 552 (quota) during the transfer is read and reported with its code", async () => {
  const options = storThen(async (peer, data) => {
    await peer.reply("552 Disk quota exceeded");
    data.close(); // unread data: a reset for the client's next write
  });
  await withFile(16 * 1024 * 1024, async (path, bytes) => {
    await withSession(options, async (session) => {
      await assert.rejects(
        put(session, path, "/q.bin", bytes.length),
        (e) =>
          e instanceof PartialUploadError && e.code === 552 && /quota/.test(e.message) &&
          e.cause instanceof FTPError && e.bytesSent < bytes.length,
      );
      // The final reply was read: the session is still in step and usable.
      assert.equal(session.closed, false);
      assert.equal(await session.size("/nothing"), undefined);
    });
  });
});

Deno.test("a 552 while the data connection stays open (server stops reading) is heard at once", async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  const options = storThen(async (peer, data) => {
    await peer.reply("552 Disk quota exceeded");
    await released; // neither reads nor closes the data connection meanwhile
    data.close();
  });
  await withFile(32 * 1024 * 1024, async (path, bytes) => {
    await withSession(options, async (session) => {
      // This server answers nothing more until released: no NOOP may trail the STOR.
      session.abilities.trailing = false;
      try {
        await assert.rejects(
          put(session, path, "/q.bin", bytes.length),
          (e) => e instanceof PartialUploadError && e.code === 552 && /quota/.test(e.message),
        );
        assert.equal(session.closed, false);
      } finally {
        release();
      }
      assert.equal(await session.size("/nothing"), undefined);
    });
  });
});

Deno.test("a control connection that dies mid-transfer stops the sending at once", async () => {
  let release!: () => void;
  const released = new Promise<void>((r) => release = r);
  const options = storThen(async (peer, data) => {
    peer.close(); // the control connection goes; the data connection stays, unread
    await released;
    data.close();
  });
  await withFile(32 * 1024 * 1024, async (path, bytes) => {
    await withSession(options, async (session) => {
      try {
        await assert.rejects(
          put(session, path, "/d.bin", bytes.length),
          (e) =>
            e instanceof PartialUploadError && e.cause instanceof ConnectionLost &&
            /closed connection unexpectedly/.test(e.message),
        );
        assert.ok(session.closed);
      } finally {
        release();
      }
    });
  });
});

Deno.test("closing the session cuts the data connection at once (interrupt, SIGTERM)", async () => {
  let started!: () => void;
  const transferring = new Promise<void>((r) => started = r);
  let resume!: () => void;
  const resumed = new Promise<void>((r) => resume = r);
  let received = 0;
  let serverDone!: () => void;
  const drained = new Promise<void>((r) => serverDone = r);
  const options = storThen(async (_peer, data, first) => {
    received += first;
    started();
    await resumed; // stops reading meanwhile: the client's writes back up
    received += (await readAll(data)).length;
    serverDone();
  });
  const size = 48 * 1024 * 1024;
  await withFile(size, async (path) => {
    await withSession(options, async (session) => {
      const failed = assert.rejects(
        put(session, path, "/big.bin", size),
        PartialUploadError,
      );
      await transferring;
      await new Promise((r) => setTimeout(r, 200)); // the client is blocked writing
      session.close();
      resume();
      await failed;
      // The server reads what was in flight, then the end: far from the whole file.
      await drained;
      assert.ok(received < size, `server got ${received} of ${size} bytes`);
    });
  });
});

Deno.test("a missing local file fails before anything is sent (no STOR, no empty file)", async () => {
  await withSession({}, async (session, server) => {
    await assert.rejects(
      put(session, "/nonexistent/ftpbatch/source.bin", "/x.bin", 10),
      (e) => e instanceof LocalFileError && /unreadable/.test(e.message),
    );
    assert.deepEqual(verbs(server.peers[0]), []);
    assert.equal(server.files.has("/x.bin"), false);
    assert.equal(session.closed, false);
  });
});

Deno.test("a 120 before the greeting and extra 150 lines after STOR are skipped", async () => {
  const options: FakeFtpOptions = {
    beforeGreeting: ["120 ready in 1 minute"],
    on: {
      STOR: async (arg, peer) => {
        await peer.reply("150 opening", "150 still opening");
        const data = await peer.receive();
        peer.server.files.set(arg, data);
        await peer.reply("150 one more", "226 done");
      },
    },
  };
  await withFile(2000, async (path, bytes) => {
    await withSession(options, async (session, server) => {
      for (const name of ["/1.bin", "/2.bin"]) {
        const out = await put(session, path, name, bytes.length);
        assert.equal(out.sizeAfter?.size, 2000);
      }
      assert.deepEqual(server.files.get("/2.bin"), bytes);
    });
  });
});

Deno.test("a STOR answered with a final 2xx (no 150) closes the session (out of step)", async () => {
  const options: FakeFtpOptions = { on: { STOR: (_arg, peer) => peer.reply("226 done?") } };
  await withFile(100, async (path) => {
    await withSession(options, async (session) => {
      await assert.rejects(
        put(session, path, "/o.bin", 100),
        PartialUploadError,
      );
      assert.ok(session.closed);
    });
  });
});

Deno.test("an endless reply to SIZE ends in a ProtocolError with the session closed", async () => {
  const options: FakeFtpOptions = {
    on: {
      SIZE: async (_arg, peer) => {
        await peer.reply("213-here it comes");
        const chunk = new TextEncoder().encode("213-more\r\n".repeat(2000));
        while (!peer.closed) await peer.raw(chunk);
      },
    },
  };
  await withSession(options, async (session) => {
    await assert.rejects(session.size("/x"), ProtocolError);
    assert.ok(session.closed);
  });
});

Deno.test("idle drop: the server closed the connection between commands", async () => {
  for (const goodbye of [undefined, "421 Timeout."]) {
    let dropped!: () => void;
    const gone = new Promise<void>((r) => dropped = r);
    const server = startScriptedServer(async (peer) => {
      await peer.login();
      if (goodbye) {
        await peer.expect("SIZE");
        await peer.reply(goodbye);
      }
      peer.close();
      dropped();
    });
    await withSession(server, async (session) => {
      if (!goodbye) {
        await gone;
        await new Promise((r) => setTimeout(r, 50));
      }
      await assert.rejects(
        session.size("/x"),
        (e) => e instanceof ConnectionLost && e.idle === true,
      );
      assert.ok(session.closed);
    });
  }
});

Deno.test("rename: a transient refusal (450) never deletes the destination", async () => {
  const options = { on: { RNTO: (_: string, p: Peer) => p.reply("450 busy, try later") } };
  await withSession(options, async (session, server) => {
    server.files.set("/keep/important.txt", new Uint8Array([1]));
    server.files.set("/keep/.important.txt.ftpbatch-x.part", new Uint8Array([2]));
    await assert.rejects(
      session.rename("/keep/.important.txt.ftpbatch-x.part", "/keep/important.txt"),
      (e) => e instanceof FTPError && e.code === 450,
    );
    assert.ok(!server.commands.some((c) => c.startsWith("DELE")), "no DELE sent");
    assert.deepEqual(server.files.get("/keep/important.txt"), new Uint8Array([1]));
  });
});

/** A server that refuses to rename onto an existing file (as Windows servers do). */
function noOverwrite(code: string, exists: "SIZE" | "MDTM" = "SIZE"): FakeFtpOptions {
  return {
    on: {
      RNTO: (arg, peer) => peer.server.files.has(arg) ? peer.reply(`${code} file exists`) : false,
      ...(exists === "MDTM" ? { SIZE: (_: string, p: Peer) => p.reply("502 no SIZE") } : {}),
    },
  };
}

for (const [code, exists] of [["550", "SIZE"], ["553", "SIZE"], ["550", "MDTM"]] as const) {
  Deno.test(`rename: ${code} from a server that will not overwrite -> ${exists}, DELE, rename`, async () => {
    await withSession(noOverwrite(code, exists), async (session, server) => {
      server.files.set("/d/a.txt", new Uint8Array([1]));
      server.files.set("/d/.a.part", new Uint8Array([2, 2]));
      await session.rename("/d/.a.part", "/d/a.txt");
      assert.deepEqual(server.files.get("/d/a.txt"), new Uint8Array([2, 2]));
      assert.equal(server.files.has("/d/.a.part"), false);
      assert.deepEqual(verbs(server.peers[0]), [
        "RNFR",
        "RNTO",
        ...(exists === "MDTM" ? ["SIZE", "MDTM"] : ["SIZE"]),
        "DELE",
        "RNFR",
        "RNTO",
      ]);
    });
  });
}

Deno.test("rename: a 550 for a destination that is not there deletes nothing", async () => {
  const options = { on: { RNTO: (_: string, p: Peer) => p.reply("550 not allowed") } };
  await withSession(options, async (session, server) => {
    server.files.set("/d/.a.part", new Uint8Array([2]));
    await assert.rejects(session.rename("/d/.a.part", "/d/a.txt"), FTPError);
    assert.deepEqual(verbs(server.peers[0]), ["RNFR", "RNTO", "SIZE"]);
  });
});

Deno.test("rename failing after the DELE says the old file is gone and where the new one is", async () => {
  const options = { on: { RNTO: (_: string, p: Peer) => p.reply("550 cannot rename") } };
  await withSession(options, async (session, server) => {
    server.files.set("/d/a.txt", new Uint8Array([1]));
    server.files.set("/d/.a.part", new Uint8Array([2]));
    await assert.rejects(
      session.rename("/d/.a.part", "/d/a.txt"),
      (e) =>
        e instanceof FTPError && e.code === 550 &&
        /\/d\/a\.txt is gone and the new content is still at \/d\/\.a\.part/.test(e.message),
    );
    assert.deepEqual(server.files.get("/d/.a.part"), new Uint8Array([2]));
  });
});

Deno.test("a data connection that breaks without a reply: the session is closed", async () => {
  const options = storThen(async (peer, data) => {
    data.close();
    await peer.next(); // says nothing, until the client leaves
  });
  await withFile(16 * 1024 * 1024, async (path, bytes) => {
    await withSession(options, async (session) => {
      await assert.rejects(
        put(session, path, "/c.bin", bytes.length),
        (e) =>
          e instanceof PartialUploadError && e.code === undefined &&
          e.cause instanceof ConnectionLost && !e.cause.idle,
      );
      assert.ok(session.closed);
    });
  });
});
