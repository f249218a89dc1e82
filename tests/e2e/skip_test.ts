/**
 * Skipping what is already on the server, against a real vsftpd (no MLSD: its
 * LIST is read; `MDTM time path` sets times), through the command line: an
 * unchanged re-run sends no STOR and reports every file skipped; a same-size
 * file with a newer time is sent again under size+mtime and not under size;
 * after a run the server's files carry the local modification times.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { bytesFor, compareTree, makeDataset, sha256 } from "../helpers/dataset.ts";
import { type RealServer, realServerTest } from "../helpers/real_server.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const PW_ENV = "FTPBATCH_TEST_PW";

interface ReportLike {
  exitCode: number;
  notes?: string[];
  totals: Record<string, number>;
  files: { destination: string; status: string; bytesSent: number; reason?: string }[];
}

async function upload(server: RealServer, config: string, report: string, ...flags: string[]) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "upload", config, "--report", report, "--workers", "3", ...flags],
    env: { NO_COLOR: "1", [PW_ENV]: server.password },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  const json = JSON.parse(await Deno.readTextFile(report)) as ReportLike;
  return { code: out.code, stderr, report: json };
}

/**
 * STOR commands vsftpd logged after `from` (a length of its log), the time probe's left out:
 * a same-size file off by whole quarter hours (an hour later, to the minute) makes the run
 * check the server's zone once.
 */
async function storsSince(server: RealServer, from: number): Promise<string[]> {
  const stors = (await server.log()).slice(from).match(/"STOR [^"]*"/g) ?? [];
  return stors.filter((s) => !s.includes("ftpbatch-time-probe"));
}

/** A test against a fresh vsftpd with 30 local files (ignored, with the reason, where none can run). */
function skipTest(
  name: string,
  fn: (server: RealServer, data: Awaited<ReturnType<typeof makeDataset>>) => Promise<void>,
) {
  realServerTest(`real server: ${name}`, {}, async (server) => {
    const data = await makeDataset({
      count: 30,
      server: { host: server.host, port: server.port, user: server.user, passwordEnv: PW_ENV },
    });
    try {
      await fn(server, data);
    } finally {
      await Deno.remove(data.dir, { recursive: true });
    }
  });
}

skipTest(
  "an unchanged re-run sends no STOR and reports every file skipped; remote times = local",
  async (server, data) => {
    const report = join(data.dir, "r.json");
    const first = await upload(server, data.configPath, report);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.report.totals.uploaded, 30);
    assert.deepEqual(await compareTree(server.root, data.expected), []);
    // The server's files carry the local modification times, to the second.
    for (const [dest, local] of data.expected) {
      const remote = (await Deno.stat(join(server.root, dest))).mtime!.getTime();
      const mine = (await Deno.stat(local)).mtime!.getTime();
      assert.equal(remote, Math.floor(mine / 1000) * 1000, dest);
    }
    const mark = (await server.log()).length;
    const again = await upload(server, data.configPath, report);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual(await storsSince(server, mark), []);
    assert.equal(again.report.totals.skipped, 30);
    assert.equal(again.report.totals.uploaded, 0);
    assert.equal(again.report.totals.bytesSent, 0);
    for (const f of again.report.files) {
      assert.deepEqual([f.status, f.reason, f.bytesSent], [
        "skipped",
        "unchanged: size+mtime",
        0,
      ]);
    }
    assert.match(again.stderr, /30 files: 0 uploaded, 30 skipped, 0 missing, 0 failed/);
  },
);

skipTest(
  "a same-size file with a newer time is sent again under size+mtime, not under size",
  async (server, data) => {
    const report = join(data.dir, "r.json");
    assert.equal((await upload(server, data.configPath, report)).code, 0);
    // One file rewritten with other bytes of the same length, an hour later.
    const [dest, local] = [...data.expected].find(([, l]) => Deno.statSync(l).size > 0)!;
    const size = (await Deno.stat(local)).size;
    await Deno.writeFile(local, bytesFor(999, size));
    const later = new Date(Date.now() + 3_600_000);
    await Deno.utime(local, later, later);
    const remote = join(server.root, dest);
    const before = await sha256(remote);
    assert.notEqual(before, await sha256(local));

    let mark = (await server.log()).length;
    const bySize = await upload(server, data.configPath, report, "--skip", "size");
    assert.equal(bySize.code, 0, bySize.stderr);
    assert.equal(bySize.report.totals.skipped, 30);
    assert.deepEqual(await storsSince(server, mark), []);
    assert.equal(await sha256(remote), before);

    mark = (await server.log()).length;
    const byTime = await upload(server, data.configPath, report);
    assert.equal(byTime.code, 0, byTime.stderr);
    assert.deepEqual([byTime.report.totals.uploaded, byTime.report.totals.skipped], [1, 29]);
    assert.equal(byTime.report.files.find((f) => f.status === "uploaded")?.destination, dest);
    assert.equal((await storsSince(server, mark)).length, 1);
    assert.equal(await sha256(remote), await sha256(local));
    assert.equal(
      (await Deno.stat(remote)).mtime!.getTime(),
      Math.floor(later.getTime() / 1000) * 1000,
    );

    // --force sends everything again.
    mark = (await server.log()).length;
    const forced = await upload(server, data.configPath, report, "--force");
    assert.equal(forced.code, 0, forced.stderr);
    assert.equal(forced.report.totals.uploaded, 30);
    assert.equal((await storsSince(server, mark)).length, 30);
  },
);
