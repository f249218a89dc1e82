/**
 * The end of an upload (`finish_upload.ts`): the time set, then the rename,
 * against vsftpd (`MDTM time path`) and a fake server where no command sets
 * a time.
 */
import assert from "node:assert/strict";
import { openSession } from "../../src/ftp/open_session.ts";
import { finishUpload } from "../../src/upload/finish_upload.ts";
import { realServerTest } from "../helpers/real_server.ts";
import { startFakeFtp } from "../helpers/scripted_server.ts";

const TIMEOUT = 10_000;
const T = Date.UTC(2024, 0, 2, 3, 4, 5);

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
