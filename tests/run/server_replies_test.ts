/**
 * Whole runs against a scripted server (tests/helpers/mini_ftp_server.ts)
 * that answers the way a full, chatty or dropping server does: what the run
 * reports, logs and sends.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { summarize } from "../../src/report/report.ts";
import { makeDataset } from "../helpers/dataset.ts";
import { type MiniServerHooks, startMiniServer } from "../helpers/mini_ftp_server.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };

/** A run of `count` files against a mini server with `hooks`; returns outcome, log and server. */
async function run(
  hooks: MiniServerHooks,
  opts: { count: number; password?: string; options?: Record<string, unknown> },
) {
  const server = startMiniServer(hooks);
  const data = await makeDataset({
    count: opts.count,
    sizeOf: (i) => 1000 + i,
    server: { host: server.host, port: server.port, user: "u", password: opts.password ?? "pw" },
    options: { workers: 1, retries: 3, backoffBaseMs: 200, ...opts.options },
  });
  const log: string[] = [];
  try {
    const outcome = await runUpload({
      config: await loadConfig(data.configPath),
      password: opts.password ?? "pw",
      log: (l) => log.push(l),
    });
    return { outcome, log, server };
  } finally {
    await server.close();
    await Deno.remove(data.dir, { recursive: true });
  }
}

Deno.test({
  name: "552 after the data: that file fails at once with the server's words, no more files sent",
  ...integration,
  async fn() {
    const { outcome, log, server } = await run({
      password: "pw",
      afterStore: (_path, _bytes, n) => n === 1 ? "226 ok" : "552 Disk full: quota exceeded",
    }, { count: 5 });
    const { files } = outcome.report;
    assert.equal(outcome.exitCode, 1);
    assert.equal(outcome.report.totals.uploaded, 1);
    assert.equal(outcome.report.totals.failed, 4);
    const full = files.filter((f) => /552 Disk full/.test(f.error ?? "") && f.attempts === 1);
    assert.equal(full.length, 1, JSON.stringify(files));
    const unsent = files.filter((f) =>
      /^not sent: the server reported it is full \(552/.test(f.error ?? "")
    );
    assert.equal(unsent.length, 3, JSON.stringify(files));
    for (const f of unsent) assert.equal(f.bytesSent, 0);
    // Two STORs: the one that worked and the one that met the full disk; no retry, no more files.
    assert.equal(server.commands.filter((c) => c.startsWith("STOR ")).length, 2);
    assert.ok(log.some((l) => /server is full/.test(l)), log.join("\n"));
  },
});

Deno.test({
  name:
    "a server echoing the password in its 530 never gets it into the log or the report; said once",
  ...integration,
  async fn() {
    const secret = "Sup3r-S3cret";
    const { outcome, log, server } = await run({
      password: "right",
      loginRefused: (p) => `530 Login incorrect for password ${p}`,
    }, { count: 3, password: secret, options: { workers: 2 } });
    assert.equal(outcome.exitCode, 3);
    assert.equal(server.stats.logins, 0);
    // What a person sees on stderr: the log, the summary and the run's connect error.
    const stderr = [...log, summarize(outcome.report), outcome.connectError ?? ""].join("\n");
    const everything = stderr + JSON.stringify(outcome.report);
    assert.ok(!everything.includes(secret), everything);
    assert.match(outcome.connectError ?? "", /530 Login incorrect for password \*\*\*/);
    // The server's words once, not per worker and per file.
    assert.equal(stderr.split("Login incorrect").length - 1, 1, stderr);
    for (const f of outcome.report.files) assert.match(f.error ?? "", /could not connect/);
  },
});

Deno.test({
  name: "a 5xx reply echoing the password during the run is redacted in the report and the log",
  ...integration,
  async fn() {
    const secret = "Pw-Echoed-Back";
    const { outcome, log } = await run({
      password: secret,
      afterStore: () => `553 Cannot store (user u, pass ${secret})\x1b[2J`,
    }, { count: 2, password: secret });
    assert.equal(outcome.exitCode, 1);
    const everything = log.join("\n") + JSON.stringify(outcome.report);
    assert.ok(!everything.includes(secret), everything);
    assert.ok(!everything.includes("\x1b"), "escape sequences escaped");
    assert.match(outcome.report.files[0].error ?? "", /pass \*\*\*\)\\x1b\[2J/);
  },
});

Deno.test({
  name: "a connection the server drops between files costs no pause and no attempt",
  ...integration,
  async fn() {
    const { outcome, server } = await run({
      password: "pw",
      closeAfter: { command: "RNTO", times: 1 },
    }, { count: 3, options: { retries: 1, backoffBaseMs: 3000, backoffMaxMs: 3000 } });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.report.files));
    assert.equal(outcome.report.totals.uploaded, 3);
    // Reconnected once, and no file spent a second attempt (a pause would be 1.5-3 s here).
    assert.equal(outcome.report.totals.reconnects, 1);
    for (const f of outcome.report.files) assert.equal(f.attempts, 1, JSON.stringify(f));
    assert.equal(server.stats.logins, 2);
  },
});

Deno.test({
  name: "a wrong port: the log says at once that connecting failed and the run retries",
  ...integration,
  async fn() {
    const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const port = (l.addr as Deno.NetAddr).port;
    l.close();
    const data = await makeDataset({
      count: 2,
      server: { host: "127.0.0.1", port },
      options: { workers: 2, retries: 2, backoffBaseMs: 50, backoffMaxMs: 100 },
    });
    const log: string[] = [];
    try {
      const outcome = await runUpload({
        config: await loadConfig(data.configPath),
        log: (line) => log.push(line),
      });
      assert.equal(outcome.exitCode, 3);
      const retries = log.filter((line) => /^could not connect: .*; retrying/.test(line));
      // One line per round (not one per worker): attempts 2 and 3 of 3, each with its pause.
      assert.equal(retries.length, 2, log.join("\n"));
      assert.match(retries[0], /\(attempt 2 of 3, next in \d+\.\d s\)$/);
      assert.match(retries[1], /\(attempt 3 of 3, next in \d+\.\d s\)$/);
      assert.equal(outcome.report.workers, 0, "no connection ever logged in");
      assert.match(summarize(outcome.report), /over 0 connections/);
    } finally {
      await Deno.remove(data.dir, { recursive: true });
    }
  },
});
