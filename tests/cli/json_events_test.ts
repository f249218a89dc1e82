import assert from "node:assert/strict";
import { join } from "node:path";
import { cli, cliTest, LOGIN, withServer } from "./cli_process.ts";
import { withData } from "../helpers/dataset.ts";
import { closedPort } from "../helpers/kit.ts";
import { startFakeFtp } from "../helpers/scripted_server.ts";
import type { Report } from "../../src/report/report.ts";
import { integrationTest } from "../helpers/kit.ts";

const PASSWORD = LOGIN.password;
const TYPES = new Set(["run-start", "file", "retry", "reconnect", "run-end"]);

/** Every stdout line as an event: each must parse, name a known type and carry an ISO time. */
function parseEvents(stdout: string): Record<string, unknown>[] {
  const lines = stdout.split("\n");
  assert.equal(lines.pop(), "", "stdout ends with a newline");
  let last = 0;
  return lines.map((line, i) => {
    const e = JSON.parse(line); // throws on anything that is not one JSON object a line
    assert.equal(typeof e, "object", `line ${i + 1}`);
    assert.ok(TYPES.has(e.type), `line ${i + 1}: type ${e.type}`);
    assert.deepEqual(Object.keys(e).slice(0, 2), ["type", "time"], `line ${i + 1}`);
    const t = new Date(e.time);
    assert.equal(t.toISOString(), e.time, `line ${i + 1}: ISO time`);
    assert.ok(t.getTime() >= last, `line ${i + 1}: time goes forward`);
    last = t.getTime();
    return e;
  });
}

/** The last event is the run's end, with the report's totals. */
function assertRunEnd(events: Record<string, unknown>[], report: Report): void {
  const end = events[events.length - 1];
  assert.equal(end.type, "run-end");
  assert.deepEqual(end.totals, report.totals);
}

cliTest(
  "--json: every stdout line is an event; file events and run-end match the report; " +
    "a cut connection shows as retry and reconnect events",
  {
    count: 12,
    missing: 1,
    options: { workers: 2, retries: 2, backoffBaseMs: 20, backoffMaxMs: 50 },
  },
  async ({ server, data }) => {
    // A folder where one file should go: the server refuses that file for good.
    const config = JSON.parse(await Deno.readTextFile(data.configPath));
    const blocked = config.files[1].destination as string;
    await Deno.mkdir(join(server.root, blocked), { recursive: true });
    // The server drops the control connection during the 3rd upload: a retry on a new one.
    server.faults.closeControlOnStore = { after: 3, times: 1 };
    const reportPath = join(data.dir, "report.json");
    const r = await cli(["upload", data.configPath, "--json", "--report", reportPath]);
    const report: Report = JSON.parse(await Deno.readTextFile(reportPath));
    const events = parseEvents(r.stdout);

    assert.equal(r.code, 1);
    assert.equal(report.totals.missing, 1);
    assert.equal(report.totals.failed, 1);
    assert.equal(report.files.find((f) => f.destination === blocked)?.status, "failed");
    assert.ok(!r.stdout.includes(PASSWORD) && !r.stderr.includes(PASSWORD));
    // Nothing for people on stdout; the summary stays on stderr.
    assert.match(r.stderr, new RegExp(`: ${report.totals.uploaded} uploaded, `));
    assert.doesNotMatch(r.stderr, /progress:/);

    const [start, end] = [events[0], events[events.length - 1]];
    assert.equal(start.type, "run-start");
    assert.equal(end.type, "run-end");
    assert.equal(events.filter((e) => e.type === "run-start").length, 1);
    assert.equal(events.filter((e) => e.type === "run-end").length, 1);
    assert.equal(start.files, report.totals.files);
    assert.equal(start.bytes, report.files.reduce((n, f) => n + f.size, 0));
    assert.equal(start.workers, 2);

    // One `file` event per file, each exactly the report's entry.
    const files = events.filter((e) => e.type === "file");
    assert.equal(files.length, report.files.length);
    const byDest = new Map(files.map(({ type: _t, time: _i, ...f }) => [f.destination, f]));
    assert.equal(byDest.size, report.files.length);
    for (const f of report.files) assert.deepEqual(byDest.get(f.destination), f);
    // The missing file is known at once: told before any uploaded one.
    const firstUploaded = files.findIndex((e) => e.status === "uploaded");
    assert.ok(files.findIndex((e) => e.status === "missing") < firstUploaded);

    assert.deepEqual(end.totals, report.totals);
    assert.equal(end.exitCode, r.code);
    assert.equal(end.exitCode, report.exitCode);
    assert.equal(end.report, reportPath);
    assert.equal(end.durationMs, report.durationMs);

    // The cut: a retry on a new connection, and the reconnect that followed it.
    const retries = events.filter((e) => e.type === "retry");
    const reconnects = events.filter((e) => e.type === "reconnect");
    assert.ok(retries.length >= 1, "a retry event");
    assert.ok(retries.some((e) => e.reconnect === true && typeof e.error === "string"));
    for (const e of retries) {
      assert.equal(typeof e.delayMs, "number");
      assert.ok((e.attempt as number) >= 2, "the attempt about to be made");
    }
    assert.equal(reconnects.length, report.totals.reconnects);
    assert.ok(report.totals.reconnects >= 1);
    const retried = report.files.filter((f) => f.attempts > 1).map((f) => f.destination);
    assert.ok(retries.some((e) => retried.includes(e.path as string)), "names the file");
  },
);

cliTest(
  "--verbose: one stderr line per finished file; stdout stays empty",
  { count: 5, missing: 1 },
  async ({ data }) => {
    const r = await cli(["upload", data.configPath, "--verbose"]);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, "");
    const lines = r.stderr.split("\n");
    for (const dest of data.expected.keys()) {
      const line = lines.filter((l) => l.startsWith(`uploaded: ${dest} (`));
      assert.equal(line.length, 1, dest);
      assert.match(line[0], / s\)$/);
    }
    assert.equal(
      lines.filter((l) => /^missing: \/upload\/missing\/m0\.txt: source/.test(l)).length,
      1,
    );
  },
);

integrationTest(
  "--json --dry-run: every file told once (as the report has it), nothing sent",
  async () => {
    // Nothing listens there: a dry run connects to nothing.
    const dataset = { count: 4, missing: 1, server: { host: "127.0.0.1", port: closedPort() } };
    await withData(dataset, async (data) => {
      const reportPath = join(data.dir, "report.json");
      const r = await cli([
        "upload",
        data.configPath,
        "--json",
        "--dry-run",
        "--report",
        reportPath,
      ]);
      const report: Report = JSON.parse(await Deno.readTextFile(reportPath));
      const events = parseEvents(r.stdout);
      assert.equal(r.code, 1);
      assert.deepEqual(events.map((e) => e.type), [
        "run-start",
        ...report.files.map(() => "file"),
        "run-end",
      ]);
      assert.equal(events[0].dryRun, true);
      const told = events.filter((e) => e.type === "file").map(({ type: _t, time: _i, ...f }) => f);
      assert.deepEqual(
        told.sort((a, b) => String(a.destination).localeCompare(String(b.destination))),
        [...report.files].sort((a, b) => a.destination.localeCompare(b.destination)),
      );
      assertRunEnd(events, report);
      assert.equal(report.totals.bytesSent, 0);
    });
  },
);

integrationTest(
  "--json: a server echoing the password and escape sequences: retry and file events " +
    "carry its words redacted and escaped",
  async () => {
    const secret = "Pw-Echoed-Back";
    let stores = 0;
    const server = startFakeFtp({
      on: {
        async STOR(path, peer) {
          stores++;
          // The first try of the first file: a passing refusal, tried again on the same connection.
          if (stores === 1) {
            await peer.reply(`450 busy (pass ${secret})\x1b[2J`);
            return;
          }
          if (!path.includes("file-1")) return false;
          await peer.reply("150 ok to send data");
          await peer.receive();
          await peer.reply(`553 Cannot store (pass ${secret})\x07`);
        },
      },
    });
    const dataset = {
      count: 3,
      server: { host: "127.0.0.1", port: server.port, user: "u", password: secret },
      options: { workers: 1, retries: 2, backoffBaseMs: 10 },
    };
    await withData(dataset, async (data) => {
      const r = await cli(["upload", data.configPath, "--json"]);
      assert.equal(r.code, 1, r.stderr);
      for (const out of [r.stdout, r.stderr]) {
        assert.ok(!out.includes(secret), out);
        assert.ok(!out.includes("\x1b") && !out.includes("\x07"), "control characters escaped");
      }
      const events = parseEvents(r.stdout);
      const retry = events.find((e) => e.type === "retry");
      assert.equal(retry?.error, "450 busy (pass ***)\\x1b[2J");
      assert.equal(retry?.reconnect, false);
      assert.equal(retry?.attempt, 2);
      const failed = events.filter((e) => e.type === "file" && e.status === "failed");
      assert.equal(failed.length, 1);
      assert.equal(failed[0].error, "553 Cannot store (pass ***)\\x07");
    }).finally(() => server.close());
  },
);

cliTest(
  "--json re-run: files already on the server are told skipped, with the reason, before run-end",
  { count: 4 },
  async ({ data }) => {
    assert.equal((await cli(["upload", data.configPath, "--quiet"])).code, 0);
    const reportPath = join(data.dir, "report.json");
    const r = await cli(["upload", data.configPath, "--json", "--report", reportPath]);
    assert.equal(r.code, 0, r.stderr);
    const report: Report = JSON.parse(await Deno.readTextFile(reportPath));
    const events = parseEvents(r.stdout);
    const files = events.filter((e) => e.type === "file");
    assert.equal(files.length, 4);
    for (const f of files) {
      assert.equal(f.status, "skipped");
      assert.equal(typeof f.reason, "string");
      assert.equal(f.bytesSent, 0);
      const { type: _t, time: _i, ...entry } = f;
      assert.deepEqual(entry, report.files.find((x) => x.destination === f.destination));
    }
    assertRunEnd(events, report);
    assert.equal(report.totals.skipped, 4);
  },
);

integrationTest(
  "--json with a folder source: walked files told once each, as the report has them, " +
    "on the first run and when a re-run skips them",
  async () => {
    await withServer(async (server) => {
      const dir = await Deno.makeTempDir({ prefix: "ftpbatch-tree-" });
      for (let i = 0; i < 6; i++) {
        await Deno.mkdir(join(dir, "tree", `d${i % 2}`), { recursive: true });
        await Deno.writeTextFile(join(dir, "tree", `d${i % 2}`, `f${i}.txt`), "x".repeat(100 + i));
      }
      await Deno.writeTextFile(join(dir, "one.txt"), "listed");
      const configPath = join(dir, "c.json");
      await Deno.writeTextFile(
        configPath,
        JSON.stringify({
          server: { host: server.host, port: server.port, user: "u", password: PASSWORD },
          options: { workers: 2, report: "report.json" },
          files: [
            { source: "one.txt", destination: "/up/one.txt" },
            { source: "tree/", destination: "/up/tree/" },
          ],
        }),
      );
      for (const round of ["first", "re-run"]) {
        const r = await cli(["upload", configPath, "--json"]);
        assert.equal(r.code, 0, `${round}: ${r.stderr}`);
        const report: Report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
        const events = parseEvents(r.stdout);
        assert.equal(events[0].folders, 1);
        assert.equal(events[0].files, 1, "run-start counts the listed files");
        const files = events.filter((e) => e.type === "file").map(({ type: _t, time: _i, ...f }) =>
          f
        );
        assert.equal(files.length, 7, round);
        assert.equal(new Set(files.map((f) => f.destination)).size, 7, `${round}: each once`);
        for (const f of report.files) {
          assert.deepEqual(files.find((x) => x.destination === f.destination), f, round);
        }
        const status = round === "first" ? "uploaded" : "skipped";
        assert.ok(report.files.every((f) => f.status === status), round);
        assertRunEnd(events, report);
      }
      await Deno.remove(dir, { recursive: true });
    }, { user: "u", password: PASSWORD });
  },
);
