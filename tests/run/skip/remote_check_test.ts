/**
 * The skip phase on its own: which jobs it drops, from what the server has,
 * and what it costs (commands in vsftpd's log); the fallbacks where it cannot
 * do its work.
 */
import assert from "node:assert/strict";
import { checkRemote, type RemoteCheckOptions } from "../../../src/run/skip/remote_check.ts";
import type { UploadJob } from "../../../src/upload/job.ts";
import { realServerTest } from "../../helpers/real_server.ts";
import { startFakeFtp } from "../../helpers/scripted_server.ts";
import { makeDataset } from "../../helpers/dataset.ts";
import { loadConfig } from "../../../src/config/load.ts";
import { runUpload } from "../../../src/run/coordinator.ts";
import { integrationTest } from "../../helpers/kit.ts";

// Recent (two days ago, whole seconds): vsftpd lists it to the minute. Older than six months it
// would list the day only, and a change within the same day would not show.
const T = Math.floor(Date.now() / 1000) * 1000 - 2 * 86_400_000;
const HOUR = 3_600_000;

function job(id: number, destination: string, size: number, mtimeMs = T): UploadJob {
  return { id, source: `/local/${id}`, destination, size, mtimeMs };
}

function options(over: Partial<RemoteCheckOptions> & Pick<RemoteCheckOptions, "jobs" | "login">) {
  return { rule: "size+mtime" as const, timeoutMs: 10_000, retries: 1, connections: 4, ...over };
}

realServerTest(
  "vsftpd: unchanged files dropped, changed and new ones kept; one LIST per existing folder",
  { kind: "vsftpd" },
  async (server) => {
    const root = server.root;
    await Deno.mkdir(`${root}/in/sub`, { recursive: true });
    for (
      const [name, text, mtime] of [["same.txt", "12345", T], ["touched.txt", "12345", T], [
        "sub/deep.txt",
        "x",
        T,
      ]] as const
    ) {
      await Deno.writeTextFile(`${root}/in/${name}`, text);
      await Deno.utime(`${root}/in/${name}`, mtime / 1000, mtime / 1000);
    }
    await server.seedOwner(`${root}/in`);
    const jobs = [
      job(1, "/in/same.txt", 5),
      // Same size, changed 67 minutes later (whole quarter hours would look like a zone: probed).
      job(2, "/in/touched.txt", 5, T + HOUR + 7 * 60_000),
      job(3, "/in/resized.txt", 9),
      job(4, "/in/sub/deep.txt", 1),
      job(5, "/new/a/b/c.txt", 3), // /new is not there: nor is anything below it
      job(6, "/new/a/d.txt", 3),
    ];
    const login = {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      secure: false as const,
    };
    const lines: string[] = [];
    const check = await checkRemote(options({ jobs, login, log: (l) => lines.push(l) }));
    assert.deepEqual(check.skipped.map((s) => [s.job.id, s.reason]), [
      [1, "unchanged: size+mtime"],
      [4, "unchanged: size+mtime"],
    ]);
    assert.deepEqual(check.send.map((j) => j.id), [2, 3, 5, 6]);
    assert.deepEqual(check.notes, []); // vsftpd lists UTC: nothing to say
    assert.deepEqual(lines, []);
    const log = await server.log();
    assert.equal(log.match(/"LIST -a"/g)?.length, 2); // /in and /in/sub
    assert.equal((log.match(/"CWD \/new[^"]*"/g) ?? []).length, 1); // /new only: the rest is below it
    // One file's SIZE and MDTM, once: the LIST time zone. No probe (no STOR).
    assert.equal((log.match(/"MDTM[^"]*"/g) ?? []).length, 1);
    assert.equal((log.match(/"(SIZE|MDTM|STOR)[^"]*"/g) ?? []).length, 2);

    // The size rule keeps the same-size file too; "none" reads nothing.
    const bySize = await checkRemote(options({ jobs, login, rule: "size" }));
    assert.deepEqual(bySize.skipped.map((s) => s.job.id), [1, 2, 4]);
    const before = (await server.log()).length;
    const none = await checkRemote(options({ jobs, login, rule: "none" }));
    assert.deepEqual(none.send.map((j) => j.id), [1, 2, 3, 4, 5, 6]);
    assert.equal((await server.log()).length, before);
  },
);

Deno.test("a server that cannot set times: a same-size newer remote copy is sent, by size+newer too where its clock is unknown", async () => {
  // The fake server lists nothing (LIST not implemented: per file, SIZE and MDTM, which
  // always says 2026-01-01), and no command sets a time.
  const server = startFakeFtp();
  server.dirs.add("/in");
  server.files.set("/in/old.txt", new Uint8Array(4));
  server.files.set("/in/edited.txt", new Uint8Array(4));
  const uploadedAt = Date.UTC(2026, 0, 1);
  const jobs = [
    job(1, "/in/old.txt", 4, uploadedAt - HOUR),
    job(2, "/in/edited.txt", 4, uploadedAt + HOUR),
  ];
  try {
    // The default never skips on a guess (on main the older one was skipped here).
    const strict = await checkRemote(options({ jobs, login: server.login }));
    assert.deepEqual(strict.skipped, []);
    assert.deepEqual(strict.send.map((j) => j.id), [1, 2]);
    // Off by a whole hour each: maybe a zone, so the probe ran once; it found none.
    assert.deepEqual(strict.notes, []);
    assert.equal(server.commands.filter((c) => c.startsWith("STOR")).length, 1);
    // size+newer: the remote copy is newer, but this server's clock says 2026-01-01 for a
    // file stored just now (no zone): the clock is unknown, so "newer" cannot be trusted.
    const lenient = await checkRemote(options({ jobs, login: server.login, rule: "size+newer" }));
    assert.deepEqual(lenient.skipped, []);
    assert.deepEqual(lenient.send.map((j) => j.id), [1, 2]);
    // The probe files were stored and deleted: the server holds what it held.
    assert.deepEqual([...server.files.keys()].sort(), ["/in/edited.txt", "/in/old.txt"]);
  } finally {
    await server.close();
  }
});

Deno.test("no server: every file is sent, nothing said (the pool reports the failure, once)", async () => {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  const lines: string[] = [];
  const jobs = [job(1, "/a.txt", 1), job(2, "/b/c.txt", 1)];
  const check = await checkRemote(options({
    jobs,
    login: { host: "127.0.0.1", port, secure: false },
    log: (line) => lines.push(line),
  }));
  assert.deepEqual(check.send, jobs);
  assert.deepEqual(check.skipped, []);
  assert.deepEqual(lines, []);
});

integrationTest(
  "a refused login ends the run at the skip phase: exit 3, one login tried, not two",
  async () => {
    const server = startFakeFtp({
      on: { PASS: (p, peer) => peer.reply(`530 Login incorrect for ${p}`) },
    });
    const data = await makeDataset({
      count: 4,
      server: { host: "127.0.0.1", port: server.port, user: "u", password: "s3cret-pw" },
      options: { retries: 3, backoffBaseMs: 10 },
    });
    try {
      const outcome = await runUpload({
        config: await loadConfig(data.configPath),
        password: "s3cret-pw",
      });
      assert.equal(outcome.exitCode, 3);
      assert.equal(server.commands.filter((c) => c.startsWith("PASS")).length, 1);
      assert.match(outcome.connectError ?? "", /530 Login incorrect for \*\*\*/);
      assert.equal(outcome.report.totals.failed, 4);
      for (const f of outcome.report.files) {
        assert.equal(f.error, "not sent: could not connect or log in");
      }
    } finally {
      await server.close();
      await Deno.remove(data.dir, { recursive: true });
    }
  },
);

Deno.test("a first run to an empty server: one login, one CWD per top folder, nothing below", async () => {
  const server = startFakeFtp();
  const jobs = Array.from({ length: 60 }, (_, i) => job(i, `/top${i % 3}/d${i % 20}/f${i}.txt`, 1));
  try {
    let missing = 0;
    const check = await checkRemote({
      ...options({ jobs, login: server.login, connections: 4 }),
      onMissing: () => missing++,
    });
    assert.equal(check.send.length, 60);
    assert.equal(server.peers.length, 1);
    // Said as soon as a folder is found missing: the run's other workers start then.
    assert.ok(missing >= 1);
    assert.deepEqual(server.commands.filter((c) => c.startsWith("CWD")).sort(), [
      "CWD /top0",
      "CWD /top1",
      "CWD /top2",
    ]);
  } finally {
    await server.close();
  }
});

Deno.test("a connection lost in the skip phase costs a reconnect, not a wrong decision", async () => {
  let drops = 1;
  const server = startFakeFtp({
    on: {
      // The first LIST: the server goes away. After the reconnect LIST is not implemented (502),
      // so the files are asked one by one.
      LIST: (_arg, peer) => {
        if (drops-- <= 0) return false;
        peer.close();
      },
    },
  });
  server.dirs.add("/in");
  server.files.set("/in/a.txt", new Uint8Array(4));
  try {
    const uploadedAt = Date.UTC(2026, 0, 1); // what the fake server's MDTM says
    const check = await checkRemote(options({
      jobs: [job(1, "/in/a.txt", 4, uploadedAt), job(2, "/in/b.txt", 4, uploadedAt)],
      login: server.login,
    }));
    assert.deepEqual(check.skipped.map((s) => s.job.id), [1]);
    assert.deepEqual(check.send.map((j) => j.id), [2]);
    assert.equal(server.peers.length, 2);
  } finally {
    await server.close();
  }
});

integrationTest(
  "interrupted during the skip phase: nothing sent, exit 130, the files reported interrupted",
  async () => {
    const controller = new AbortController();
    const server = startFakeFtp({
      on: {
        // The first folder's CWD takes a while: the interrupt comes meanwhile.
        CWD: async (arg, peer) => {
          controller.abort("SIGINT");
          await new Promise((r) => setTimeout(r, 100));
          await peer.reply(server.dirs.has(arg) ? "250 ok" : "550 no such folder");
        },
      },
    });
    const data = await makeDataset({
      count: 6,
      server: { host: "127.0.0.1", port: server.port, user: "u", password: "pw" },
    });
    try {
      const outcome = await runUpload({
        config: await loadConfig(data.configPath),
        password: "pw",
        signal: controller.signal,
      });
      assert.equal(outcome.exitCode, 130);
      assert.equal(outcome.report.interrupted, "SIGINT");
      assert.deepEqual(new Set(outcome.report.files.map((f) => f.error)), new Set(["interrupted"]));
      assert.equal(server.commands.filter((c) => c.startsWith("STOR")).length, 0);
    } finally {
      await server.close();
      await Deno.remove(data.dir, { recursive: true });
    }
  },
);
