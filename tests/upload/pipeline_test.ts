/**
 * Files pipelined on one connection (`Uploader.pipeline`), against the
 * scripted fake server: the SIZE that proves a file goes out with the next
 * file's EPSV (in the STOR's own write where the server holds such commands),
 * its rename goes out in front of the next file's STOR, nothing is sent while
 * a transfer is open (pure-ftpd mode), and the failure cases of
 * that path (a refused RNTO, a 4xx in the middle, a connection lost between
 * the pipelined commands) end with every file byte-exact or honestly failed.
 */

import assert from "node:assert/strict";
import type { JobResult } from "../../src/upload/job.ts";
import { TEMP_MARK } from "../../src/upload/temp_name.ts";
import {
  type FakeFtpOptions,
  type ScriptedServer,
  startFakeFtp,
} from "../helpers/scripted_server.ts";
import { randomJobs, testUploader } from "../helpers/kit.ts";

const SIZE = 3000;

async function run(
  options: FakeFtpOptions,
  count = 4,
): Promise<{ server: ScriptedServer; results: JobResult[]; files: Uint8Array[] }> {
  // A server that sets times with MFMT: once that is learned (the first file), the time
  // goes out with the rename.
  const server = startFakeFtp({
    features: ["EPSV", "PASV", "REST STREAM", "SIZE", "MDTM", "MFMT", "UTF8"],
    ...options,
    on: {
      MFMT: (arg, peer) => peer.reply(`213 Modify=${arg.split(" ")[0]}; ${arg.slice(15)}`),
      ...options.on,
    },
  });
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-pipeline-" });
  const uploader = testUploader(server.login, { retries: 2 });
  try {
    const { files, jobs } = await randomJobs(dir, count, (i) => SIZE + i);
    const results: JobResult[] = [];
    for (const [i, job] of jobs.entries()) {
      results.push(...await uploader.pipeline(job, () => i < jobs.length - 1));
    }
    results.push(...await uploader.settle());
    await uploader.close();
    results.sort((a, b) => a.id - b.id);
    return { server, results, files };
  } finally {
    await server.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Every file uploaded byte-exact and no temporary file left. */
function allThere(server: ScriptedServer, files: Uint8Array[], results: JobResult[]): void {
  assert.equal(results.length, files.length);
  for (const [i, bytes] of files.entries()) {
    assert.equal(results[i].status, "uploaded", results[i].error);
    assert.deepEqual(server.files.get(`/f${i}.bin`), bytes);
  }
  assert.deepEqual([...server.files.keys()].filter((k) => k.includes(TEMP_MARK)), []);
}

const verbs = (server: ScriptedServer) =>
  server.commands.map((c) => c.split(" ")[0]).filter((v) =>
    !/^(USER|PASS|OPTS|TYPE|FEAT)$/.test(v)
  );

Deno.test("pipelined (pure-ftpd mode): SIZE+EPSV together, the rename goes with the next STOR, nothing during a transfer", async () => {
  const { server, results, files } = await run({ busyDuringTransfer: true, settleMs: 20 }, 3);
  allThere(server, files, results);
  // The first file learns how times are set (MFMT), and is renamed on its own. Its NOOP
  // (the trailing probe, trailing.ts) is answered 500 during the transfer: trailing off.
  // deno-fmt-ignore
  assert.deepEqual(verbs(server), [
    "EPSV", "STOR", "NOOP", "SIZE", "EPSV", "MFMT", "RNFR", "RNTO",
    "STOR", "SIZE", "EPSV",
    "MFMT", "RNFR", "RNTO", "STOR", "SIZE",
    "MFMT", "RNFR", "RNTO", "QUIT",
  ]);
  // Each rename comes after the SIZE that proved its file, its time set just before it.
  const at = (line: string) => server.commands.indexOf(line);
  for (const c of server.commands.filter((c) => c.startsWith("RNFR "))) {
    assert.ok(at(`SIZE ${c.slice(5)}`) < at(c), c);
    const mfmt = server.commands.findIndex((m) => m.startsWith("MFMT ") && m.endsWith(c.slice(5)));
    assert.equal(mfmt, at(c) - 1, c);
  }
  for (const r of results) assert.equal(r.timeSet, "set");
  for (const r of results) assert.equal(r.attempts, 1);
  assert.equal(server.commands.filter((c) => c.startsWith("PASS")).length, 1);
  assert.deepEqual(server.peers.flatMap((p) => p.duringTransfer), ["NOOP"]);
});

Deno.test("pipelined (a server that holds commands until the 226): SIZE and the next EPSV trail the STOR", async () => {
  const { server, results, files } = await run({}, 4);
  allThere(server, files, results);
  // The first STOR probes (NOOP answered after the 226): from the second on, each STOR's
  // write carries the rename riding ahead, the STOR, its SIZE and the next file's EPSV.
  // deno-fmt-ignore
  assert.deepEqual(verbs(server), [
    "EPSV", "STOR", "NOOP", "SIZE", "EPSV", "MFMT", "RNFR", "RNTO",
    "STOR", "SIZE", "EPSV",
    "MFMT", "RNFR", "RNTO", "STOR", "SIZE", "EPSV",
    "MFMT", "RNFR", "RNTO", "STOR", "SIZE",
    "MFMT", "RNFR", "RNTO", "QUIT",
  ]);
  for (const r of results) assert.equal(r.attempts, 1);
  assert.equal(server.commands.filter((c) => c.startsWith("PASS")).length, 1);
});

Deno.test("pipelined: a refused RNTO (553): the next file goes on, the refused one fails alone, its temporary file kept", async () => {
  const { server, results, files } = await run({
    on: { RNTO: (arg, peer) => arg === "/f1.bin" ? peer.reply("553 not allowed") : false },
  });
  for (const i of [0, 2, 3]) {
    assert.equal(results[i].status, "uploaded", results[i].error);
    assert.equal(results[i].attempts, 1);
    assert.deepEqual(server.files.get(`/f${i}.bin`), files[i]);
  }
  assert.equal(results[1].status, "failed");
  assert.match(results[1].error ?? "", /553/);
  assert.equal(results[1].bytesSent, files[1].length, "tried again without sending again");
  assert.equal(server.files.has("/f1.bin"), false);
  const temp = [...server.files.keys()].find((k) => k.includes(TEMP_MARK));
  assert.ok(temp?.includes("f1.bin"), temp);
  assert.deepEqual(server.files.get(temp!), files[1]);
  assert.equal(server.commands.filter((c) => c.startsWith("PASS")).length, 1, "one session");
});

Deno.test("pipelined: a 4xx to RNFR in the middle of a pipeline: the file is renamed on its own, once", async () => {
  let busy = 1;
  const { server, results, files } = await run({
    on: {
      RNFR: (arg, peer) => arg.includes("f1.bin") && busy-- > 0 ? peer.reply("450 busy") : false,
    },
  });
  allThere(server, files, results);
  assert.equal(results[1].attempts, 2);
  assert.equal(results[1].bytesSent, files[1].length);
  for (const i of [0, 2, 3]) assert.equal(results[i].attempts, 1);
  // The STOR pipelined behind it was taken on the same session.
  assert.equal(server.commands.filter((c) => c.startsWith("PASS")).length, 1);
});

Deno.test("pipelined: the connection drops between RNFR and RNTO: both files end byte-exact", async () => {
  let drops = 1;
  const { server, results, files } = await run({
    on: {
      RNTO: (arg, peer) => {
        if (arg !== "/f1.bin" || drops-- <= 0) return false;
        peer.close(); // the RNTO, and the STOR pipelined behind it, are never answered
        return Promise.resolve();
      },
    },
  });
  allThere(server, files, results);
  assert.equal(server.commands.filter((c) => c.startsWith("PASS")).length, 2);
  // The pending file was complete: renamed after the reconnect, not sent again.
  assert.equal(results[1].bytesSent, files[1].length);
});

Deno.test("pipelined: the server renames, then drops before replying: the destination is checked, nothing re-sent", async () => {
  let drops = 1;
  const { server, results, files } = await run({
    on: {
      RNTO: (arg, peer) => {
        if (arg !== "/f1.bin" || drops-- <= 0) return false;
        peer.server.files.set(arg, peer.server.files.get(peer.renameFrom!)!);
        peer.server.files.delete(peer.renameFrom!);
        peer.close();
        return Promise.resolve();
      },
    },
  });
  allThere(server, files, results);
  assert.equal(results[1].bytesSent, files[1].length, "not sent again");
  assert.ok(server.commands.includes("SIZE /f1.bin"), "the destination's size was asked");
});
