import assert from "node:assert/strict";
import {
  cannotSetTimes,
  setRemoteTime,
  timeCommandLine,
  timeSettingFor,
} from "../../src/ftp/set_mtime.ts";
import type { Reply } from "../../src/ftp/reply.ts";
import { realServerTest, type ServerKind } from "../helpers/real_server.ts";
import { rawLogin } from "../helpers/raw_ftp.ts";

const T = Date.UTC(2025, 0, 1, 12, 0, 0, 750);
const feat = (...names: string[]) => new Map(names.map((n) => [n, ""]));

/** A scripted server: answers each line by the first matching rule; records what it was sent. */
function scripted(rules: [RegExp, string][]) {
  const sent: string[] = [];
  const send = (line: string): Promise<Reply> => {
    sent.push(line);
    const rule = rules.find(([re]) => re.test(line));
    const text = rule ? rule[1] : "500 Unknown command.";
    return Promise.resolve({ code: Number(text.slice(0, 3)), message: text });
  };
  return { sent, send };
}

Deno.test("timeCommandLine: the four forms, UTC to the second", () => {
  assert.equal(timeCommandLine("MFMT", "/a b.txt", T), "MFMT 20250101120000 /a b.txt");
  assert.equal(timeCommandLine("MDTM", "/a b.txt", T), "MDTM 20250101120000 /a b.txt");
  assert.equal(
    timeCommandLine("SITE UTIME mtime path", "/a b.txt", T),
    "SITE UTIME 20250101120000 /a b.txt",
  );
  assert.equal(
    timeCommandLine("SITE UTIME path UTC", "/a b.txt", T),
    "SITE UTIME /a b.txt 20250101120000 20250101120000 20250101120000 UTC",
  );
});

Deno.test("vsftpd's replies: FEAT lists MDTM, MDTM sets the time at the first try", async () => {
  const server = scripted([
    [/^MDTM \d{14} \/missing/, "550 Could not set file modification time."],
    [/^MDTM \d{14} /, "213 File modification time set."],
    [/^SITE /, "500 Unknown SITE command."],
  ]);
  const setting = timeSettingFor(feat("UTF8", "EPSV", "MDTM", "REST", "SIZE"));
  assert.deepEqual(await setRemoteTime(setting, server.send, "/in/a.txt", T), {
    outcome: "set",
    command: "MDTM",
  });
  assert.deepEqual(server.sent, ["MDTM 20250101120000 /in/a.txt"]);
  // Once MDTM has worked, a 550 fails that file only; nothing else is tried.
  const missing = await setRemoteTime(setting, server.send, "/missing.txt", T);
  assert.deepEqual(missing, {
    outcome: "failed",
    error: "MDTM: 550 Could not set file modification time.",
  });
  assert.equal(server.sent.length, 2);
  assert.equal(cannotSetTimes(setting), false);
});

Deno.test("pyftpdlib's and pure-ftpd's FEAT list MFMT: it goes first", async () => {
  const server = scripted([[/^MFMT /, "213 Modify=20250101120000; /a.txt."]]);
  const setting = timeSettingFor(feat("MDTM", "MFMT", "MLST", "SIZE"));
  const result = await setRemoteTime(setting, server.send, "/a.txt", T);
  assert.deepEqual(result, { outcome: "set", command: "MFMT" });
  assert.deepEqual(server.sent, ["MFMT 20250101120000 /a.txt"]);
});

Deno.test("a read-only MDTM and only pure-ftpd's SITE UTIME form: learned, then used alone", async () => {
  const server = scripted([
    [/^MDTM /, "550 Can't check for file existence"],
    [/^SITE UTIME \S+ \d{14} \d{14} \d{14} UTC$/, "200 UTIME OK"],
    [/^SITE UTIME /, "500 UTC Only"],
  ]);
  const setting = timeSettingFor(feat("MDTM", "SIZE"));
  const first = await setRemoteTime(setting, server.send, "/a.txt", T);
  assert.deepEqual(first, { outcome: "set", command: "SITE UTIME path UTC" });
  assert.deepEqual(server.sent, [
    "MDTM 20250101120000 /a.txt",
    "SITE UTIME 20250101120000 /a.txt",
    "SITE UTIME /a.txt 20250101120000 20250101120000 20250101120000 UTC",
  ]);
  server.sent.length = 0;
  await setRemoteTime(setting, server.send, "/b.txt", T);
  assert.deepEqual(server.sent, [
    "SITE UTIME /b.txt 20250101120000 20250101120000 20250101120000 UTC",
  ]);
});

Deno.test("proftpd mod_site_misc's SITE UTIME mtime path form", async () => {
  const server = scripted([[/^SITE UTIME \d{14} /, "200 SITE UTIME command successful"]]);
  const setting = timeSettingFor(feat("SIZE"));
  assert.deepEqual(await setRemoteTime(setting, server.send, "/a b.txt", T), {
    outcome: "set",
    command: "SITE UTIME mtime path",
  });
});

Deno.test("a server that can set no time: found out once, then costs nothing per file", async () => {
  const server = scripted([]);
  const setting = timeSettingFor(feat("SIZE"));
  assert.deepEqual(await setRemoteTime(setting, server.send, "/a.txt", T), {
    outcome: "unsupported",
  });
  assert.equal(server.sent.length, 3); // two SITE UTIME forms, MFMT
  assert.equal(cannotSetTimes(setting), true);
  assert.deepEqual(await setRemoteTime(setting, server.send, "/b.txt", T), {
    outcome: "unsupported",
  });
  assert.equal(server.sent.length, 3);
});

Deno.test("an MDTM that answers with a time read it instead of setting it: ruled out", async () => {
  const server = scripted([[/^MDTM /, "213 20200101000000"]]);
  const setting = timeSettingFor(feat("MDTM"));
  assert.deepEqual(await setRemoteTime(setting, server.send, "/a.txt", T), {
    outcome: "unsupported",
  });
  assert.equal(setting.commands.find((c) => c.command === "MDTM")?.state, "ruled out");
});

Deno.test("a command that never worked is ruled out after failing three files", async () => {
  const server = scripted([[/^MFMT /, "550 Permission denied"], [
    /^SITE /,
    "502 SITE not implemented",
  ]]);
  const setting = timeSettingFor(feat("MFMT"));
  for (const name of ["/a", "/b"]) {
    const r = await setRemoteTime(setting, server.send, name, T);
    assert.deepEqual(r, { outcome: "failed", error: "MFMT: 550 Permission denied" });
  }
  assert.equal(cannotSetTimes(setting), false);
  assert.deepEqual(await setRemoteTime(setting, server.send, "/c", T), { outcome: "unsupported" });
  // MFMT x3 and each SITE UTIME form once.
  assert.equal(server.sent.length, 5);
});

Deno.test("server text in an error is made safe", async () => {
  const server = scripted([[/^MFMT /, "550 \x1b[2Jno"]]);
  const setting = timeSettingFor(feat("MFMT"));
  setting.commands[0].state = "works";
  const r = await setRemoteTime(setting, server.send, "/a", T);
  assert.deepEqual(r, { outcome: "failed", error: "MFMT: 550 \\x1b[2Jno" });
});

// ------------------------------------------------------------- real servers

const names = ["a b.txt", "Café ☕.txt"];

async function seed(root: string): Promise<void> {
  await Deno.mkdir(`${root}/in`, { recursive: true });
  for (const name of names) await Deno.writeTextFile(`${root}/in/${name}`, name);
}

async function assertTimesSet(root: string): Promise<void> {
  for (const name of names) {
    const st = await Deno.stat(`${root}/in/${name}`);
    assert.equal(st.mtime?.getTime(), Math.floor(T / 1000) * 1000, name);
  }
}

/** What each server of the matrix takes, learned from its FEAT and replies. */
const TAKES: [ServerKind, string][] = [
  ["vsftpd", "MDTM"], // `mdtm_write` (default YES); FEAT lists MDTM, no MFMT
  ["pure-ftpd", "MFMT"],
  ["proftpd", "MFMT"], // mod_facts
  ["pyftpdlib", "MFMT"],
];

for (const [kind, command] of TAKES) {
  realServerTest(`${kind}: the time is set with ${command}, learned; a missing file fails alone`, {
    kind,
  }, async (server) => {
    await seed(server.root);
    await server.seedOwner(`${server.root}/in`);
    const ftp = await rawLogin(server.port, server.user, server.password);
    try {
      const setting = timeSettingFor(ftp.features);
      for (const name of names) {
        const r = await setRemoteTime(setting, ftp.send, `/in/${name}`, T);
        assert.deepEqual(r, { outcome: "set", command });
      }
      await assertTimesSet(server.root);
      const missing = await setRemoteTime(setting, ftp.send, "/in/missing.txt", T);
      assert.equal(missing.outcome, "failed");
      assert.equal(cannotSetTimes(setting), false);
    } finally {
      ftp.close();
    }
  });
}

realServerTest("pyftpdlib: its MDTM only reads; a time in front is read as a name", {
  kind: "pyftpdlib",
}, async (server) => {
  await seed(server.root);
  await server.seedOwner(`${server.root}/in`);
  const ftp = await rawLogin(server.port, server.user, server.password);
  try {
    const readOnly = timeSettingFor(new Map([["MDTM", ""]]));
    readOnly.commands = readOnly.commands.filter((c) => c.command === "MDTM");
    const r = await setRemoteTime(readOnly, ftp.send, "/in/a b.txt", T);
    assert.equal(r.outcome, "failed");
    assert.notEqual((await Deno.stat(`${server.root}/in/a b.txt`)).mtime?.getTime(), T);
  } finally {
    ftp.close();
  }
});

Deno.test("on a probe file any failure rules a command out at once", async () => {
  // vsftpd with mdtm_write=NO reads "MDTM <time> <path>" as a file name: 550.
  const server = scripted([[/^MDTM /, "550 Could not get file modification time."]]);
  const setting = timeSettingFor(feat("MDTM"));
  const r = await setRemoteTime(setting, server.send, "/in/.probe.ftpbatch-x.part", T, {
    probe: true,
  });
  assert.deepEqual(r, { outcome: "unsupported" });
  assert.equal(server.sent.length, 4);
});
