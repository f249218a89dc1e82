/**
 * Reading what is on the server for the skip decision, and the time probe:
 * against vsftpd (LIST; `MDTM time path` sets times) and pyftpdlib (MLSD;
 * MFMT), and a fake server for the fallbacks (LIST refused: per file; no
 * command sets a time, or one says it did and did not).
 */
import assert from "node:assert/strict";
import { openSession } from "../../src/ftp/open_session.ts";
import type { Session } from "../../src/ftp/session.ts";
import { cannotSetTimes, timeSettingFor } from "../../src/ftp/set_mtime.ts";
import {
  finishUpload,
  probeTimeSetting,
  readFolder,
  type SessionRunner,
} from "../../src/upload/remote_state.ts";
import { TEMP_MARK } from "../../src/upload/temp_name.ts";
import { realServerTest } from "../helpers/real_server.ts";
import { type Handler, startFakeFtp } from "../helpers/scripted_server.ts";

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

realServerTest(
  "vsftpd: finishUpload sets the time, then renames; once MDTM has worked, in one write with the rename",
  { kind: "vsftpd" },
  async (server) => {
    await Deno.mkdir(`${server.root}/in`);
    for (const name of [".a.part", ".b.part", "c.txt"]) {
      await Deno.writeTextFile(`${server.root}/in/${name}`, name);
    }
    await server.seedOwner(`${server.root}/in`);
    const session = await openSession({ ...server, secure: false }, TIMEOUT);
    const holder = {};
    try {
      assert.equal(await finishUpload(session, holder, "/in/.a.part", "/in/a.txt", T + 10), "set");
      assert.equal(
        await finishUpload(session, holder, "/in/.b.part", "/in/b.txt", T + 2000),
        "set",
      );
      // Not atomic: the file is already in place; only its time is set.
      assert.equal(await finishUpload(session, holder, "/in/c.txt", undefined, T + 4000), "set");
    } finally {
      session.close();
    }
    const left = [...Deno.readDirSync(`${server.root}/in`)].map((e) => e.name).sort();
    assert.deepEqual(left, ["a.txt", "b.txt", "c.txt"]);
    for (const [name, t] of [["a.txt", T], ["b.txt", T + 2000], ["c.txt", T + 4000]] as const) {
      assert.equal((await Deno.stat(`${server.root}/in/${name}`)).mtime?.getTime(), t, name);
    }
    // The second file's MDTM went out with its RNFR and RNTO: nothing in between, in order.
    const commands = ((await server.log()).match(/FTP command: Client "[^"]*", "[^"]*"/g) ?? [])
      .map((l) => l.replace(/.*", "/, "").replace(/"$/, ""));
    const i = commands.findIndex((c) => c.startsWith("MDTM") && c.endsWith("/in/.b.part"));
    assert.deepEqual(commands.slice(i + 1, i + 3), ["RNFR /in/.b.part", "RNTO /in/b.txt"]);
  },
);

Deno.test("finishUpload on a server that sets no time: renamed all the same, 'unsupported' once learned", async () => {
  const server = startFakeFtp();
  server.dirs.add("/in");
  for (const n of ["a", "b", "c", "d"]) server.files.set(`/in/.${n}.part`, new Uint8Array(1));
  const session = await openSession(server.login, TIMEOUT);
  const holder = {};
  try {
    const outcomes = [];
    for (const n of ["a", "b", "c", "d"]) {
      outcomes.push(await finishUpload(session, holder, `/in/.${n}.part`, `/in/${n}`, T));
    }
    // MDTM fails per file (550) three times before it is ruled out; SITE UTIME and MFMT at once.
    assert.deepEqual(outcomes, ["failed", "failed", "unsupported", "unsupported"]);
    assert.deepEqual([...server.files.keys()].sort(), ["/in/a", "/in/b", "/in/c", "/in/d"]);
    const timeCommands = server.commands.filter((c) => /^(MDTM \d|SITE|MFMT)/.test(c));
    assert.equal(timeCommands.length, 3 + 3);
  } finally {
    session.close();
    await server.close();
  }
});
