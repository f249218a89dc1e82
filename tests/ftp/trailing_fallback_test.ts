/**
 * Commands trailing a STOR (`src/ftp/trailing.ts`) against the scripted fake
 * server, in the ways real servers were seen to break them: answered during
 * the transfer (one merged `500` as pure-ftpd gives for bytes that arrive
 * mid-transfer, or ProFTPD's `213 0`), or never answered. Each time: trailing
 * is turned off, no reply out of order proves a file, and the file reaches the
 * server byte-exact on its retry.
 */

import assert from "node:assert/strict";
import { openNativeSession } from "../../src/ftp/native_login.ts";
import type { NativeTransport } from "../../src/ftp/native_transport.ts";
import { PartialUploadError } from "../../src/ftp/errors.ts";
import type { Session } from "../../src/ftp/session.ts";
import type { JobResult } from "../../src/upload/job.ts";
import { type Peer, type ScriptedServer, startFakeFtp } from "../helpers/scripted_server.ts";
import { randomJobs, testUploader } from "../helpers/kit.ts";
import { put, withFile } from "./local_file.ts";

/**
 * A server that holds a NOOP in the STOR's write until the `226` (the probe passes) and
 * answers any other command that came with the STOR during the transfer, as `during` says.
 */
function midTransfer(during: (lines: string[], peer: Peer) => Promise<void>): ScriptedServer {
  return startFakeFtp({
    on: {
      STOR: async (arg, peer) => {
        await peer.reply("150 ok to send data");
        const data = await peer.receive();
        peer.server.files.set(arg, data);
        const came = peer.takeBuffered();
        const others = came.filter((l) => l !== "NOOP");
        peer.duringTransfer.push(...others);
        if (others.length > 0) await during(others, peer);
        await peer.reply("226 transfer complete");
        for (const _ of came.filter((l) => l === "NOOP")) await peer.reply("200 ok");
      },
    },
  });
}

async function withSession(
  server: ScriptedServer,
  fn: (session: Session) => Promise<void>,
): Promise<void> {
  let session: Session | undefined;
  try {
    session = await openNativeSession(server.login, 5_000);
    await fn(session);
  } finally {
    session?.close();
    await server.close();
  }
}

const BEHAVIOURS: [string, (lines: string[], peer: Peer) => Promise<void>][] = [
  [
    "pure-ftpd: one 500 for the bytes that came mid-transfer",
    (_l, p) => p.reply("500 Unknown command"),
  ],
  [
    "ProFTPD: SIZE answered at once with the partial size",
    async (lines, p) => {
      for (const l of lines) await p.reply(l.startsWith("SIZE") ? "213 0" : p.openPassive("EPSV"));
    },
  ],
];

/** The second file, `/b.bin`, with another file to follow (so the next EPSV trails too). */
function uploadB(session: Session, path: string, size: number) {
  return session.upload({
    localPath: path,
    remotePath: "/b.bin",
    offset: 0,
    method: "rest",
    size,
    nextFollows: true,
  });
}

for (const [name, during] of BEHAVIOURS) {
  Deno.test(`trailing out of order (${name}): session closed, trailing off, nothing proven`, async () => {
    await withFile(5000, async (path, bytes) => {
      const server = midTransfer(during);
      await withSession(server, async (session) => {
        const first = await put(session, path, "/a.bin", bytes.length);
        assert.equal(first.sizeAfter?.size, bytes.length);
        assert.equal(session.abilities.trailing, true, "the probe's NOOP was held");
        await assert.rejects(
          uploadB(session, path, bytes.length),
          (e) => e instanceof PartialUploadError && /out of step/.test(e.message),
        );
        assert.equal(session.abilities.trailing, false);
        assert.ok(session.closed, "a session out of step is never used again");
        assert.deepEqual((session.transport as NativeTransport).trails, { probe: 1, size: 1 });
      });
      assert.deepEqual(server.peers[0].duringTransfer[0], "SIZE /b.bin");
    });
  });
}

Deno.test("trailing: a trailing command never answered costs the deadline once, then off", async () => {
  await withFile(3000, async (path, bytes) => {
    // Holds the NOOP, then drops SIZE and EPSV without a word (a worse pure-ftpd).
    const server = midTransfer(() => Promise.resolve());
    await withSession(server, async (session) => {
      await put(session, path, "/a.bin", bytes.length);
      session.abilities.trailing = true;
      await assert.rejects(
        uploadB(session, path, bytes.length),
        PartialUploadError,
      );
      assert.equal(session.abilities.trailing, false);
      assert.ok(session.closed);
    });
  });
});

Deno.test("trailing out of order under the uploader: the file is retried on a new session and uploaded exact", async () => {
  const server = midTransfer((_l, p) => p.reply("500 Unknown command"));
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-trailing-" });
  const uploader = testUploader(server.login, { retries: 2 });
  try {
    const results: JobResult[] = [];
    const { files, jobs } = await randomJobs(dir, 4, (i) => 2000 + i);
    for (const [i, job] of jobs.entries()) {
      results.push(...await uploader.pipeline(job, () => i < jobs.length - 1));
    }
    results.push(...await uploader.settle());
    await uploader.close();
    results.sort((a, b) => a.id - b.id);
    for (const [i, bytes] of files.entries()) {
      assert.equal(results[i].status, "uploaded", results[i].error);
      assert.deepEqual(server.files.get(`/f${i}.bin`), bytes);
    }
    // The second file met the refusal: one retry on a second login, then trailing stayed off
    // (kept across the reconnect): nothing more came during a transfer.
    assert.deepEqual(results.map((r) => r.attempts), [1, 2, 1, 1]);
    assert.equal(server.commands.filter((c) => c.startsWith("PASS")).length, 2);
    assert.equal(server.peers.flatMap((p) => p.duringTransfer).length, 2);
    assert.equal(server.peers[1].commands.filter((c) => c === "NOOP").length, 0);
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
});
