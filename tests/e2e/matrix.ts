/**
 * The product tests every server configuration of the matrix
 * (tests/helpers/real_server.ts `MATRIX`) must pass: the unicode set, the
 * server killed and restarted mid-file, a per-IP limit below the number of
 * workers, a re-run that finds everything there, and FTPS with a throwaway CA. Each `matrix_*_test.ts` file
 * registers them for one configuration, so `deno test --parallel` runs the
 * servers side by side. Bytes on the server are compared (sha256) and the
 * report is checked.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import type { Report } from "../../src/report/report.ts";
import { compareTree, type Dataset, listTree, makeUnicodeDataset } from "../helpers/dataset.ts";
import { restartMidFile } from "../helpers/partial.ts";
import { type MatrixEntry, type RealServer, realServerTest } from "../helpers/real_server.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const MiB = 1024 * 1024;
const PASSWORD_ENV = "FTPBATCH_TEST_PW";

/** Options of a run whose server is killed and restarted mid-file: enough tries to ride it out. */
export const RESTART_OPTIONS = {
  workers: 2,
  retries: 6,
  backoffBaseMs: 300,
  backoffMaxMs: 1500,
  timeoutMs: 10_000,
};

export function serverSection(s: RealServer, secure = false): Record<string, unknown> {
  return { host: s.host, port: s.port, user: s.user, passwordEnv: PASSWORD_ENV, secure };
}

/**
 * proftpd only (mod_tls logs its verdict on every data connection): each one resumed the
 * control connection's TLS session, none was rejected (issue 9 #6: single-use TLS 1.3 tickets).
 */
export async function assertTlsSessionsReused(server: RealServer): Promise<void> {
  if (server.kind !== "proftpd") return;
  const tls = await Deno.readTextFile(join(server.dir, "tls.log"));
  assert.doesNotMatch(tls, /rejecting data connection/);
  assert.match(tls, /client reused TLS session for data connection/);
}

/** One run in this process. */
export async function runInProcess(server: RealServer, data: Dataset): Promise<Report> {
  const outcome = await runUpload({
    config: await loadConfig(data.configPath),
    password: server.password,
  });
  return outcome.report;
}

/** One run through the command line (needed where `DENO_CERT` must be set at start-up). */
export async function runCli(
  server: RealServer,
  data: Dataset,
  env: Record<string, string> = {},
): Promise<{ code: number; stderr: string; report: Report }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN, "upload", data.configPath],
    env: { NO_COLOR: "1", [PASSWORD_ENV]: server.password, ...env },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.ok(!stderr.includes(server.password), "the password never reaches stderr");
  const report = JSON.parse(await Deno.readTextFile(join(data.dir, "report.json")));
  return { code: out.code, stderr, report };
}

/** Every file `uploaded`, the server's bytes identical, nothing else left on it. */
export async function assertAllUploaded(
  server: RealServer,
  data: Dataset,
  report: Report,
): Promise<void> {
  const failed = report.files.filter((f) => f.status !== "uploaded");
  assert.deepEqual(
    failed.map((f) => `${f.destination}: ${f.status} ${f.error ?? ""}`),
    [],
    "every file uploaded",
  );
  assert.equal(report.totals.uploaded, data.expected.size);
  assert.deepEqual(await compareTree(server.root, data.expected), []);
  assert.deepEqual(
    (await listTree(server.root)).map((p) => `/${p}`).sort(),
    [...data.expected.keys()].sort(),
    "no temporary files left beside the uploads",
  );
}

/** Attempts and reconnects, for assertion messages. */
function summary(report: Report): string {
  return JSON.stringify({
    totals: report.totals,
    retried: report.files.filter((f) => f.attempts > 1).map((f) => ({
      destination: f.destination,
      attempts: f.attempts,
      resumedFrom: f.resumedFrom,
      error: f.error,
    })),
  });
}

/** Registers the product tests for one server configuration. */
export function matrixTests(entry: MatrixEntry): void {
  const name = (what: string) => `${entry.name}: ${what}`;

  realServerTest(
    name("unicode set (Cyrillic, Japanese, emoji, spaces, #, leading -), long paths"),
    entry.options,
    async (server) => {
      const data = await makeUnicodeDataset({
        copies: 2,
        server: serverSection(server),
        options: { workers: 3, timeoutMs: 10_000 },
      });
      try {
        const report = await runInProcess(server, data);
        await assertAllUploaded(server, data, report);
        // Nothing was lost on the way: every file sent once, in full, over the first connections.
        assert.equal(report.totals.reconnects, 0, summary(report));
        for (const f of report.files) {
          assert.equal(f.attempts, 1, `${f.destination}: ${summary(report)}`);
          assert.equal(f.bytesSent, f.size, f.destination);
        }
      } finally {
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );

  realServerTest(
    name(
      "killed and restarted mid-file: reconnect, " +
        (entry.resumes ? "resume" : "full re-send") + ", identical",
    ),
    { ...entry.options, maxRate: 2 * MiB },
    async (server) => {
      const size = 8 * MiB;
      const data = await makeUnicodeDataset({
        server: serverSection(server),
        options: RESTART_OPTIONS,
        sizeOf: (i) => (i === 0 ? size : 1000),
      });
      try {
        const run = runInProcess(server, data);
        // What the killed server left of the big file: where a resume must start.
        const cut = await restartMidFile(server, 1 * MiB);
        const report = await run;
        assert.equal(report.totals.failed, 0, summary(report));
        assert.ok(report.totals.reconnects >= 1, summary(report));
        const big = report.files[0];
        assert.equal(big.size, size);
        if (entry.resumes && cut < size) {
          assert.deepEqual(big.resumedFrom, [cut], summary(report));
          assert.ok(big.bytesSent < 2 * size, `bytesSent ${big.bytesSent}`);
        }
        if (!entry.resumes) {
          // Nothing can be resumed here: no resume may be claimed for any attempt.
          for (const f of report.files) assert.deepEqual(f.resumedFrom, [], summary(report));
          if (cut < size) assert.ok(big.bytesSent >= size + cut, `bytesSent ${big.bytesSent}`);
        }
        const left = (await listTree(server.root)).filter((p) => !data.expected.has(`/${p}`));
        if (entry.hiddenStores) {
          // proftpd's own hidden file of the killed session (`.in.NAME.`) is the server's to
          // clean up; nothing of ftpbatch's may be left.
          assert.ok(left.every((p) => /(^|\/)\.in\.[^/]*\.$/.test(p)), `left: ${left}`);
          for (const p of left) await Deno.remove(join(server.root, p));
        }
        await assertAllUploaded(server, data, report);
      } finally {
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );

  realServerTest(
    name("2 connections per IP, 6 workers asked: every file, none failed"),
    { ...entry.options, maxPerIp: 2 },
    async (server) => {
      const data = await makeUnicodeDataset({
        copies: 2,
        server: serverSection(server),
        options: { workers: 6, backoffBaseMs: 100, backoffMaxMs: 1000, timeoutMs: 10_000 },
      });
      try {
        const report = await runInProcess(server, data);
        await assertAllUploaded(server, data, report);
      } finally {
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );

  realServerTest(
    name("re-run with nothing changed: every file skipped, nothing sent; remote times = local"),
    entry.options,
    async (server) => {
      const data = await makeUnicodeDataset({
        server: serverSection(server),
        options: { workers: 3, timeoutMs: 10_000 },
      });
      try {
        const first = await runInProcess(server, data);
        await assertAllUploaded(server, data, first);
        // The server's files carry the local times (set with the command the server took).
        for (const [dest, local] of data.expected) {
          const remote = (await Deno.stat(join(server.root, dest))).mtime!.getTime();
          const mine = (await Deno.stat(local)).mtime!.getTime();
          assert.equal(remote, Math.floor(mine / 1000) * 1000, dest);
        }
        const again = await runInProcess(server, data);
        assert.equal(again.exitCode, 0);
        assert.deepEqual(
          again.files.filter((f) => f.status !== "skipped").map((f) => f.destination),
          [],
          summary(again),
        );
        assert.equal(again.totals.bytesSent, 0);
        for (const f of again.files) assert.equal(f.reason, "unchanged: size+mtime");
        assert.deepEqual(again.notes ?? [], []);
      } finally {
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );

  realServerTest(
    name(
      "FTPS (AUTH TLS, throwaway CA via DENO_CERT): every file on the first attempt, a re-run sends none",
    ),
    { ...entry.options, tls: true },
    async (server) => {
      const data = await makeUnicodeDataset({
        server: serverSection(server, true),
        options: { workers: 3, report: "report.json", timeoutMs: 10_000 },
      });
      try {
        const r = await runCli(server, data, { DENO_CERT: join(server.dir, "ca.pem") });
        assert.equal(r.code, 0, `${r.stderr}\n${summary(r.report)}`);
        assert.equal(r.report.server.secure, true);
        await assertAllUploaded(server, data, r.report);
        // A data connection the server rejects costs an attempt and a reconnect: none here.
        assert.equal(r.report.totals.reconnects, 0, summary(r.report));
        for (const f of r.report.files) assert.equal(f.attempts, 1, summary(r.report));
        // Data connections encrypted too (pure-ftpd logs no commands).
        if (server.kind !== "pure-ftpd") assert.match(await server.log(), /PROT P/);
        // Again: the folders are listed over TLS data connections too, and nothing is sent.
        const again = await runCli(server, data, { DENO_CERT: join(server.dir, "ca.pem") });
        assert.equal(again.code, 0, again.stderr);
        assert.equal(again.report.totals.skipped, data.expected.size, summary(again.report));
        assert.equal(again.report.totals.bytesSent, 0);
        if (server.kind !== "pure-ftpd") assert.match(await server.log(), /\b(MLSD|LIST)\b/);
        await assertTlsSessionsReused(server);
      } finally {
        await Deno.remove(data.dir, { recursive: true });
      }
    },
  );
}
