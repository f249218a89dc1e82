/**
 * A large file known to be new goes up with APPE on vsftpd (`src/ftp/store.ts`): vsftpd
 * `ftruncate`s a STOR's file even when it is new, and on ext4 the close after the `226`
 * then flushes the whole file before the next command is read. Checked here: which verb
 * vsftpd saw, the bytes on the server, the SIZE proof; STOR for a file that may be there,
 * for a small one and on other servers; and where vsftpd refuses APPE (`cmds_denied`),
 * STOR at once and from then on.
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { openSession } from "../../src/ftp/open_session.ts";
import type { Session } from "../../src/ftp/session.ts";
import { PartialUploadError } from "../../src/ftp/errors.ts";
import { APPEND_NEW_MIN } from "../../src/ftp/store.ts";
import { matrixEntry, type RealServer, realServerTest } from "../helpers/real_server.ts";
import { patternBytes, withTempDir } from "../helpers/kit.ts";
import { compareTree, listTree, withData } from "../helpers/dataset.ts";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";

const BIG = APPEND_NEW_MIN + 123_457;

/** The verbs of the transfer commands the server logged for `name`, in order. */
async function verbsFor(server: RealServer, name: string): Promise<string[]> {
  const log = await server.log();
  const re = new RegExp(`FTP command: Client "[^"]*", "(STOR|APPE) /${name}"`, "g");
  return [...log.matchAll(re)].map((m) => m[1]);
}

/** Uploads `bytes` to `/name` (from 0) and checks the SIZE proof and the server's bytes. */
async function send(
  server: RealServer,
  session: Session,
  dir: string,
  name: string,
  bytes: Uint8Array,
  absent: boolean,
): Promise<void> {
  const local = join(dir, name);
  await Deno.writeFile(local, bytes);
  const out = await session.upload({
    localPath: local,
    remotePath: `/${name}`,
    offset: 0,
    method: "rest",
    size: bytes.length,
    absent,
  });
  assert.equal(out.sizeAfter?.size, bytes.length, `${name}: SIZE after the transfer`);
  assert.deepEqual(await Deno.readFile(join(server.root, name)), bytes, `${name}: bytes`);
}

function withSession(server: RealServer, fn: (s: Session, dir: string) => Promise<void>) {
  return withTempDir("ftpbatch-append-new-", async (dir) => {
    const session = await openSession({ ...server, secure: false }, 15_000);
    try {
      await fn(session, dir);
    } finally {
      await session.quit();
    }
  });
}

realServerTest(
  "vsftpd: a large new file goes up with APPE, one that may be there or a small one with STOR",
  matrixEntry("vsftpd").options,
  async (server) => {
    await withSession(server, async (session, dir) => {
      assert.equal(session.abilities.truncatesStore, true, "vsftpd named in its greeting");
      await send(server, session, dir, "new.bin", patternBytes(BIG, 1), true);
      assert.deepEqual(await verbsFor(server, "new.bin"), ["APPE"]);
      // Not known to be absent (a longer file is there): STOR, which truncates it.
      await Deno.writeFile(join(server.root, "old.bin"), patternBytes(BIG + 5000, 9));
      await server.seedOwner(join(server.root, "old.bin"));
      await send(server, session, dir, "old.bin", patternBytes(BIG, 2), false);
      assert.deepEqual(await verbsFor(server, "old.bin"), ["STOR"]);
      await send(server, session, dir, "small.bin", patternBytes(APPEND_NEW_MIN - 1, 3), true);
      assert.deepEqual(await verbsFor(server, "small.bin"), ["STOR"]);
    });
  },
);

realServerTest(
  "vsftpd refusing APPE (cmds_denied): the new file goes with STOR at once, and so do the next",
  { ...matrixEntry("vsftpd").options, vsftpd: ["cmds_denied=APPE"] },
  async (server) => {
    await withSession(server, async (session, dir) => {
      await send(server, session, dir, "a.bin", patternBytes(BIG, 4), true);
      assert.deepEqual(await verbsFor(server, "a.bin"), ["APPE", "STOR"]);
      assert.equal(session.abilities.append, false);
      await send(server, session, dir, "b.bin", patternBytes(BIG, 5), true);
      assert.deepEqual(await verbsFor(server, "b.bin"), ["STOR"]);
    });
  },
);

realServerTest(
  "vsftpd refusing the name (deny_file): APPE and STOR refused, APPE stays on for the next file",
  { ...matrixEntry("vsftpd").options, vsftpd: ["deny_file={*.bad}"] },
  async (server) => {
    await withSession(server, async (session, dir) => {
      const local = join(dir, "x.bad");
      await Deno.writeFile(local, patternBytes(BIG, 7));
      await assert.rejects(
        session.upload({
          localPath: local,
          remotePath: "/x.bad",
          offset: 0,
          method: "rest",
          size: BIG,
          absent: true,
        }),
        (e: PartialUploadError) => e.code === 550,
      );
      assert.deepEqual(await verbsFor(server, "x.bad"), ["APPE", "STOR"]);
      assert.equal(session.abilities.append, undefined, "not a refusal of APPE");
      await send(server, session, dir, "ok.bin", patternBytes(BIG, 8), true);
      assert.deepEqual(await verbsFor(server, "ok.bin"), ["APPE"]);
    });
  },
);

realServerTest(
  "pure-ftpd: a large new file goes up with STOR (only vsftpd truncates a new file)",
  matrixEntry("pure-ftpd").options,
  async (server) => {
    await withSession(server, async (session, dir) => {
      assert.equal(session.abilities.truncatesStore, undefined);
      await send(server, session, dir, "new.bin", patternBytes(BIG, 6), true);
    });
  },
);

for (const atomic of [true, false]) {
  realServerTest(
    `vsftpd, a run${atomic ? "" : " --no-atomic"}: new folder, APPE; again, ${
      atomic ? "APPE to a new temporary name" : "STOR over the file there"
    }; bytes exact`,
    matrixEntry("vsftpd").options,
    async (server) => {
      const verbs = async () =>
        [...(await server.log()).matchAll(/FTP command: Client "[^"]*", "(STOR|APPE) /g)]
          .map((m) => m[1]);
      const section = {
        host: server.host,
        port: server.port,
        user: server.user,
        passwordEnv: "FTPBATCH_TEST_PW",
      };
      await withData({
        count: 3,
        server: section,
        options: { workers: 1, atomic, skip: "none" },
        sizeOf: (i) => BIG + i,
      }, async (data) => {
        // `skip: "none"`: the second run sends every file again.
        const run = async () => {
          const config = await loadConfig(data.configPath);
          const outcome = await runUpload({ config, password: server.password });
          assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.report.files));
          assert.equal(outcome.report.totals.uploaded, 3);
          assert.deepEqual(await compareTree(server.root, data.expected), []);
          assert.equal((await listTree(server.root)).length, 3, "no temporary file left");
        };
        await run();
        assert.deepEqual(await verbs(), ["APPE", "APPE", "APPE"]);
        await run();
        const again = atomic ? "APPE" : "STOR";
        assert.deepEqual((await verbs()).slice(3), [again, again, again]);
      });
    },
  );
}
