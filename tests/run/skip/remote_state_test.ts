/**
 * Reading what is on the server for the skip decision, and the time probe:
 * against vsftpd (LIST; `MDTM time path` sets times) and pyftpdlib (MLSD;
 * MFMT), and a fake server for the fallbacks (LIST refused: per file; no
 * command sets a time, or one says it did and did not).
 */
import assert from "node:assert/strict";
import { openSession } from "../../../src/ftp/open_session.ts";
import type { Session } from "../../../src/ftp/session.ts";
import { cannotSetTimes, timeSettingFor } from "../../../src/ftp/set_mtime.ts";
import {
  probeTimeSetting,
  readFolder,
  type SessionRunner,
} from "../../../src/run/skip/remote_state.ts";
import { TEMP_MARK } from "../../../src/upload/temp_name.ts";
import { realServerTest } from "../../helpers/real_server.ts";
import { type Handler, startFakeFtp } from "../../helpers/scripted_server.ts";

const TIMEOUT = 10_000;
const T = Date.UTC(2024, 0, 2, 3, 4, 5);

function runnerOf(session: Session): SessionRunner {
  return (op) => op(session);
}

async function seed(root: string): Promise<void> {
  await Deno.mkdir(`${root}/in`, { recursive: true });
  for (const name of ["a.txt", "b c.txt", "unwanted.txt"]) {
    await Deno.writeTextFile(`${root}/in/${name}`, name);
    await Deno.utime(`${root}/in/${name}`, T / 1000, T / 1000);
  }
}

async function exercise(session: Session, root: string): Promise<void> {
  const run = runnerOf(session);
  const state = await readFolder(run, { dir: "/in", names: ["a.txt", "b c.txt", "new.txt"] });
  assert.equal(state.how, "listing");
  assert.deepEqual(await readFolder(run, { dir: "/nothing/here", names: ["a.txt"] }), {
    dir: "/nothing/here",
    entries: [],
    how: "absent",
  });
  assert.deepEqual(state.entries.map(([n, e]) => [n, e.type, e.size]), [
    ["a.txt", "file", 5],
    ["b c.txt", "file", 7],
  ]);
  const setting = timeSettingFor(session.features as Map<string, string>);
  assert.deepEqual(await probeTimeSetting(run, setting, "/in"), { setsTimes: true, offsetMs: 0 });
  assert.equal(cannotSetTimes(setting), false);
  // The probe file is gone again; nothing else was touched.
  const left = [...Deno.readDirSync(`${root}/in`)].map((e) => e.name).sort();
  assert.deepEqual(left, ["a.txt", "b c.txt", "unwanted.txt"]);
  assert.equal((await Deno.stat(`${root}/in/a.txt`)).mtime?.getTime(), T);
}

realServerTest(
  "vsftpd: a folder read with one LIST; the probe finds MDTM sets times, and leaves nothing",
  { kind: "vsftpd" },
  async (server) => {
    await seed(server.root);
    await server.seedOwner(`${server.root}/in`);
    const session = await openSession({ ...server, secure: false }, TIMEOUT);
    try {
      await exercise(session, server.root);
    } finally {
      session.close();
    }
    const log = await server.log();
    assert.equal(log.match(/"LIST -a"/g)?.length, 1);
    assert.match(log, new RegExp(`"STOR /in/\\.ftpbatch-time-probe\\${TEMP_MARK}`));
    assert.match(log, /"DELE \/in\/\.ftpbatch-time-probe/);
  },
);

for (const kind of ["pure-ftpd", "proftpd", "pyftpdlib"] as const) {
  realServerTest(
    `${kind}: a folder read with one MLSD; the probe finds MFMT`,
    { kind },
    async (server) => {
      await seed(server.root);
      await server.seedOwner(`${server.root}/in`);
      const session = await openSession({ ...server, secure: false }, TIMEOUT);
      try {
        assert.equal(session.features.has("MLST"), true);
        await exercise(session, server.root);
      } finally {
        session.close();
      }
    },
  );
}

Deno.test("a folder the server will not list is read per file (SIZE and MDTM)", async () => {
  const server = startFakeFtp({
    on: { LIST: (_arg, peer) => peer.reply("550 Permission denied") },
  });
  server.dirs.add("/in");
  server.files.set("/in/a.txt", new Uint8Array(5));
  const session = await openSession(server.login, TIMEOUT);
  try {
    const state = await readFolder(runnerOf(session), { dir: "/in", names: ["a.txt", "b.txt"] });
    assert.equal(state.how, "per file");
    assert.match(state.listError ?? "", /Permission denied/);
    assert.deepEqual(state.entries, [["a.txt", {
      type: "file",
      size: 5,
      mtimeMs: Date.UTC(2026, 0, 1),
      precision: "second",
    }]]);
    const asked = server.peers[0].commands.filter((c) => /^(SIZE|MDTM) /.test(c));
    assert.deepEqual(asked, [
      "SIZE /in/a.txt",
      "MDTM /in/a.txt",
      "SIZE /in/b.txt",
      "MDTM /in/b.txt",
    ]);
  } finally {
    session.close();
    await server.close();
  }
});

Deno.test("the probe: no command sets a time, or one says so and does not: false, probe deleted", async () => {
  const liar: Record<string, Handler> = { MFMT: (_arg, peer) => peer.reply("213 ok") };
  for (const on of [{}, liar]) {
    const server = startFakeFtp({ features: ["EPSV", "SIZE", "MDTM", "MFMT"], on });
    server.dirs.add("/in");
    const session = await openSession(server.login, TIMEOUT);
    try {
      const setting = timeSettingFor(session.features as Map<string, string>);
      // The fake server's MDTM says 2026-01-01 whatever the clock: no zone can be told either.
      assert.deepEqual(await probeTimeSetting(runnerOf(session), setting, "/in"), {
        setsTimes: false,
      });
      assert.equal(cannotSetTimes(setting), true);
      assert.deepEqual([...server.files.keys()], []);
      assert.ok(
        server.peers[0].commands.some((c) => c.startsWith("DELE /in/.ftpbatch-time-probe")),
      );
    } finally {
      session.close();
      await server.close();
    }
  }
});
