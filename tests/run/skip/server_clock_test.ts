/**
 * Server clocks in other time zones (issue 20 item 7, issue 21 item 3): a
 * scripted server whose LIST shows UTC+5 while MDTM says UTC, one whose LIST
 * is off by no zone at all, `server.listTimeZone` given by hand; and
 * pyftpdlib with `use_gmt_times = False` five hours ahead, where main took the
 * probe's shifted read-back for "cannot set times" and then skipped a
 * same-size edit.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { checkRemote, type RemoteCheckOptions } from "../../../src/run/skip/remote_check.ts";
import { LIST_ZONE_UNKNOWN_NOTE } from "../../../src/run/skip/skip_clock.ts";
import { newServerClock } from "../../../src/plan/server_clock.ts";
import { runUpload } from "../../../src/run/coordinator.ts";
import { validateConfig } from "../../../src/config/validate.ts";
import type { UploadJob } from "../../../src/upload/job.ts";
import { type Handler, type Peer, startFakeFtp } from "../../helpers/scripted_server.ts";
import { realServerTest } from "../../helpers/real_server.ts";
import { bytesFor } from "../../helpers/dataset.ts";

const HOUR = 3_600_000;
const MINUTE = 60_000;
/** Two days ago, a whole minute: LIST shows it to the minute. */
const T = Math.floor((Date.now() - 2 * 86_400_000) / MINUTE) * MINUTE;
const MONTHS = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(" ");

/** `ls -l` line with the time shown `shiftMs` from UTC. */
function lsLine(name: string, size: number, mtimeMs: number, shiftMs: number): string {
  const d = new Date(mtimeMs + shiftMs);
  const hh = String(d.getUTCHours()).padStart(2, "0");
  const mm = String(d.getUTCMinutes()).padStart(2, "0");
  return `-rw-r--r--    1 ftp      ftp      ${String(size).padStart(8)} ${
    MONTHS[d.getUTCMonth()]
  } ${String(d.getUTCDate()).padStart(2)} ${hh}:${mm} ${name}`;
}

function mdtm(ms: number): string {
  return new Date(ms).toISOString().replace(/[-:T]/g, "").slice(0, 14);
}

/** `fn` against a fresh {@linkcode shiftedServer}, closed afterwards. */
async function withShifted(
  shiftMs: number,
  fn: (server: ReturnType<typeof shiftedServer>) => Promise<void>,
): Promise<void> {
  const server = shiftedServer(shiftMs);
  try {
    await fn(server);
  } finally {
    await server.close();
  }
}

/**
 * A fake server with a LIST (no MLSD) whose times are shown `shiftMs` from
 * UTC, and an MDTM in UTC. `/in/same.txt` and `/in/edited.txt`: 5 bytes at T.
 */
function shiftedServer(shiftMs: number, more: Record<string, Handler> = {}) {
  const mtimes = new Map<string, number>([["/in/same.txt", T], ["/in/edited.txt", T]]);
  const cwd = new Map<Peer, string>();
  const server = startFakeFtp({
    features: ["EPSV", "PASV", "REST STREAM", "SIZE", "MDTM", "MFMT", "UTF8"],
    on: {
      CWD: async (arg, peer) => {
        cwd.set(peer, arg);
        await peer.reply(peer.server.dirs.has(arg) ? "250 ok" : "550 no such folder");
      },
      LIST: async (_arg, peer) => {
        const dir = cwd.get(peer) ?? "/";
        const lines = [...peer.server.files].filter(([p]) => p.startsWith(dir + "/"))
          .map(([p, b]) => lsLine(p.slice(dir.length + 1), b.length, mtimes.get(p) ?? T, shiftMs));
        await peer.reply("150 listing");
        const data = await peer.acceptData();
        await data.write(new TextEncoder().encode(lines.map((l) => l + "\r\n").join("")));
        data.close();
        await peer.reply("226 done");
      },
      MDTM: async (arg, peer) => {
        const t = mtimes.get(arg);
        await peer.reply(t === undefined ? "550 no such file" : `213 ${mdtm(t)}`);
      },
      ...more,
    },
  });
  server.dirs.add("/in");
  server.files.set("/in/same.txt", new Uint8Array(5));
  server.files.set("/in/edited.txt", new Uint8Array(5));
  return server;
}

function job(id: number, destination: string, mtimeMs: number): UploadJob {
  return { id, source: `/local/${id}`, destination, size: 5, mtimeMs };
}

/**
 * same.txt unchanged; edited.txt the same size, edited 67 minutes after the upload (whole
 * quarter hours would look like a zone too and cost the time probe; pyftpdlib's test has that).
 */
const JOBS = [job(1, "/in/same.txt", T + 400), job(2, "/in/edited.txt", T + HOUR + 7 * MINUTE)];

function options(server: ReturnType<typeof startFakeFtp>, over: Partial<RemoteCheckOptions> = {}) {
  return {
    jobs: JOBS,
    login: server.login,
    rule: "size+mtime" as const,
    timeoutMs: 10_000,
    retries: 1,
    connections: 1,
    ...over,
  };
}

Deno.test("a LIST five hours ahead of UTC is learned from one MDTM and corrected", async () => {
  await withShifted(5 * HOUR, async (server) => {
    const check = await checkRemote(options(server));
    assert.deepEqual(check.skipped.map((s) => [s.job.id, s.reason]), [
      [1, "unchanged: size+mtime"],
    ]);
    assert.deepEqual(check.send.map((j) => j.id), [2]);
    assert.deepEqual(check.notes, [
      "the server's LIST shows times at UTC+05:00 (learned from MDTM)",
    ]);
    assert.equal(server.commands.filter((c) => c.startsWith("MDTM")).length, 1);
    assert.equal(server.commands.filter((c) => c.startsWith("STOR")).length, 0);
  });
});

Deno.test("server.listTimeZone given by hand: no MDTM asked, times corrected", async () => {
  await withShifted(5 * HOUR, async (server) => {
    const check = await checkRemote(options(server, { clock: newServerClock("+05:00") }));
    assert.deepEqual(check.skipped.map((s) => s.job.id), [1]);
    assert.deepEqual(check.send.map((j) => j.id), [2]);
    assert.equal(server.commands.filter((c) => c.startsWith("MDTM")).length, 0);
  });
});

Deno.test("a LIST off by no time zone is not trusted: same-size files asked by MDTM, said once", async () => {
  await withShifted(7 * MINUTE, async (server) => {
    const clock = newServerClock();
    const check = await checkRemote(options(server, { clock }));
    assert.deepEqual(check.skipped.map((s) => s.job.id), [1]);
    assert.deepEqual(check.send.map((j) => j.id), [2]);
    assert.deepEqual(check.notes, [LIST_ZONE_UNKNOWN_NOTE]);
    // A second check of the same run: asked again one by one, but not said again.
    const again = await checkRemote(options(server, { clock }));
    assert.deepEqual(again.skipped.map((s) => s.job.id), [1]);
    assert.deepEqual(again.notes, []);
  });
});

Deno.test("a time probe the server refuses (553): the check goes on; no file skipped on an unknown clock", async () => {
  const server = shiftedServer(0, { STOR: (_arg, peer) => peer.reply("553 Permission denied") });
  try {
    const jobs = [
      job(1, "/in/same.txt", T + 400),
      job(2, "/in/edited.txt", T + HOUR), // a whole hour off: looks like a zone, so probed
    ];
    const lines: string[] = [];
    const check = await checkRemote(options(server, { jobs, log: (l) => lines.push(l) }));
    assert.deepEqual(check.skipped.map((s) => s.job.id), [1], lines.join("\n"));
    assert.deepEqual(check.send.map((j) => j.id), [2]);
    assert.equal(check.notes.length, 1);
    assert.match(
      check.notes[0],
      /time probe could not be stored in \/in \(553 Permission denied\)/,
    );
    // Under size+newer, a newer remote copy is not skipped while the server's clock is unknown.
    const newer = await checkRemote(
      options(server, { jobs: [job(3, "/in/edited.txt", T - HOUR)], rule: "size+newer" }),
    );
    assert.deepEqual(newer.send.map((j) => j.id), [3]);
  } finally {
    await server.close();
  }
});

realServerTest(
  "pyftpdlib showing local time five hours ahead (use_gmt_times=False): unchanged files skipped, a same-size edit an hour later sent",
  { kind: "pyftpdlib", localTimeZone: "Etc/GMT-5" },
  async (server) => {
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-zone-" });
    try {
      const names = ["a.txt", "b.txt", "c.txt"];
      // Written a day ago, so an edit "an hour later" is still in the past.
      const written = Math.floor((Date.now() - 86_400_000) / 1000) * 1000;
      for (const [i, name] of names.entries()) {
        await Deno.writeFile(join(dir, name), bytesFor(i, 100));
        await Deno.utime(join(dir, name), new Date(written), new Date(written));
      }
      const config = await validateConfig({
        server: { host: server.host, port: server.port, user: server.user },
        options: { workers: 2, retries: 1, backoffBaseMs: 50 },
        files: [{ source: dir + "/", destination: "/site/" }],
      }, "/nowhere/config.json");
      const run = () => runUpload({ config, password: server.password });
      const first = await run();
      assert.equal(first.exitCode, 0, JSON.stringify(first.report.files));
      const second = await run();
      assert.deepEqual(second.report.files.map((f) => f.status), ["skipped", "skipped", "skipped"]);
      assert.ok(
        second.report.notes?.some((n) => /UTC\+05:00/.test(n)),
        JSON.stringify(second.report.notes),
      );
      // The same size, other bytes, an hour after the first write: must be sent.
      const edited = bytesFor(99, 100);
      await Deno.writeFile(join(dir, "b.txt"), edited);
      await Deno.utime(join(dir, "b.txt"), new Date(written + HOUR), new Date(written + HOUR));
      const third = await run();
      assert.deepEqual(third.report.files.map((f) => [f.destination, f.status]), [
        ["/site/a.txt", "skipped"],
        ["/site/b.txt", "uploaded"],
        ["/site/c.txt", "skipped"],
      ]);
      assert.deepEqual(await Deno.readFile(join(server.root, "site", "b.txt")), edited);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);
