/**
 * Whole runs against a fake server (tests/helpers/scripted_server.ts)
 * that answers the way a full, chatty or dropping server does: what the run
 * reports, logs and sends.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { EARLY_DATA_BYTES } from "../../src/ftp/transport.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { summarize } from "../../src/report/summary.ts";
import { makeDataset } from "../helpers/dataset.ts";
import { type FakeFtpOptions, startFakeFtp } from "../helpers/scripted_server.ts";
import { integrationTest } from "../helpers/kit.ts";

/** A run of `count` files against a fake server answering as `fake` says; returns outcome, log and server. */
async function run(
  fake: FakeFtpOptions,
  opts: {
    count: number;
    password?: string;
    options?: Record<string, unknown>;
    sizeOf?: (i: number) => number;
  },
) {
  const server = startFakeFtp(fake);
  const data = await makeDataset({
    count: opts.count,
    sizeOf: opts.sizeOf ?? ((i) => 1000 + i),
    server: { host: "127.0.0.1", port: server.port, user: "u", password: opts.password ?? "pw" },
    // No skip phase: its own login would change the logins and connections these tests count.
    options: { workers: 1, retries: 3, backoffBaseMs: 200, skip: "none", ...opts.options },
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

/** The number of commands with this verb the server received. */
function count(server: { commands: string[] }, verb: string): number {
  return server.commands.filter((c) => c.split(" ")[0] === verb).length;
}

integrationTest(
  "552 after the data: that file fails at once with the server's words, no more files sent",
  async () => {
    let stores = 0;
    const { outcome, log, server } = await run({
      on: {
        // The first file fits; then the disk is full: the data is read, the reply is 552.
        async STOR(_path, peer) {
          if (++stores === 1) return false;
          await peer.reply("150 ok to send data");
          await peer.receive();
          await peer.reply("552 Disk full: quota exceeded");
        },
      },
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
    assert.equal(count(server, "STOR"), 2);
    assert.ok(log.some((l) => /server is full/.test(l)), log.join("\n"));
  },
);

integrationTest(
  "a server echoing the password in its 530 never gets it into the log or the report; said once",
  async () => {
    const secret = "Sup3r-S3cret";
    const { outcome, log } = await run({
      on: { PASS: (p, peer) => peer.reply(`530 Login incorrect for password ${p}`) },
    }, { count: 3, password: secret, options: { workers: 2 } });
    assert.equal(outcome.exitCode, 3);
    // What a person sees on stderr: the log, the summary and the run's connect error.
    const stderr = [...log, summarize(outcome.report), outcome.connectError ?? ""].join("\n");
    const everything = stderr + JSON.stringify(outcome.report);
    assert.ok(!everything.includes(secret), everything);
    assert.match(outcome.connectError ?? "", /530 Login incorrect for password \*\*\*/);
    // The server's words once, not per worker and per file.
    assert.equal(stderr.split("Login incorrect").length - 1, 1, stderr);
    for (const f of outcome.report.files) assert.match(f.error ?? "", /could not connect/);
  },
);

integrationTest(
  "a 5xx reply echoing the password during the run is redacted in the report and the log",
  async () => {
    const secret = "Pw-Echoed-Back";
    const { outcome, log } = await run({
      on: {
        async STOR(_path, peer) {
          await peer.reply("150 ok to send data");
          await peer.receive();
          await peer.reply(`553 Cannot store (user u, pass ${secret})\x1b[2J`);
        },
      },
    }, { count: 2, password: secret });
    assert.equal(outcome.exitCode, 1);
    const everything = log.join("\n") + JSON.stringify(outcome.report);
    assert.ok(!everything.includes(secret), everything);
    assert.ok(!everything.includes("\x1b"), "escape sequences escaped");
    assert.match(outcome.report.files[0].error ?? "", /pass \*\*\*\)\\x1b\[2J/);
  },
);

integrationTest(
  "a connection the server drops between files costs no pause and no attempt",
  async () => {
    let drops = 1;
    const { outcome, server } = await run({
      on: {
        // The first rename is answered, then the server drops the connection (idle, between files).
        async RNTO(to, peer) {
          if (drops === 0) return false;
          drops--;
          const from = peer.renameFrom!;
          peer.server.files.set(to, peer.server.files.get(from)!);
          peer.server.files.delete(from);
          await peer.reply("250 renamed");
          peer.close();
        },
      },
    }, {
      count: 3,
      // Over EARLY_DATA_BYTES: the next file's STOR, pipelined behind the rename, sends no data
      // before its 150, so the drop meets a connection with nothing under way (small files'
      // data could go out first, and then it is an attempt).
      sizeOf: (i) => EARLY_DATA_BYTES + 1000 + i,
      options: { retries: 1, backoffBaseMs: 3000, backoffMaxMs: 3000 },
    });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.report.files));
    assert.equal(outcome.report.totals.uploaded, 3);
    // Reconnected once, and no file spent a second attempt (a pause would be 1.5-3 s here).
    assert.equal(outcome.report.totals.reconnects, 1);
    for (const f of outcome.report.files) assert.equal(f.attempts, 1, JSON.stringify(f));
    assert.equal(count(server, "PASS"), 2);
  },
);

integrationTest(
  "a wrong port: the log says at once that connecting failed and the run retries",
  async () => {
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
);

integrationTest(
  "ProFTPD's 530 'maximum number of clients' on a reconnect is 'too many': files handed back",
  async () => {
    let logins = 0;
    let drops = 1;
    const { outcome, log } = await run({
      on: {
        // The first login works; the re-login after the drop is refused twice (another client
        // holds the slot meanwhile), then the slot is free again.
        async PASS(_password, peer) {
          logins++;
          if (logins === 1 || logins > 3) return false;
          await peer.reply(
            "530 Sorry, the maximum number of clients (1) from your host are already connected.",
          );
          peer.close();
        },
        // The connection is dropped after its first file, so the worker must log in again.
        async RNTO(to, peer) {
          if (drops === 0) return false;
          drops--;
          // Both workers logged in first: the reconnect is then the third login (a fast
          // pipelined worker could otherwise finish every file before the other one starts).
          for (let i = 0; i < 500 && logins < 2; i++) await new Promise((r) => setTimeout(r, 10));
          peer.server.files.set(to, peer.server.files.get(peer.renameFrom!)!);
          peer.server.files.delete(peer.renameFrom!);
          await peer.reply("250 renamed");
          peer.close();
        },
      },
    }, { count: 4, options: { workers: 1, retries: 1, backoffBaseMs: 20, backoffMaxMs: 40 } });
    assert.equal(outcome.exitCode, 0, JSON.stringify(outcome.report.files));
    assert.equal(outcome.report.totals.uploaded, 4);
    assert.equal(logins, 4, "one login, two refused re-logins, one admitted");
    assert.ok(log.some((l) => /too many/.test(l)), `no "too many" line in:\n${log.join("\n")}`);
  },
);
