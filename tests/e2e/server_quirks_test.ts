/**
 * Issue 9 items #1-#4, each against the server that shows it (the FTPS
 * items #5 and #6 are the matrix's FTPS test, matrix.ts): pure-ftpd answering
 * `500` to (or silently dropping, over 99 bytes) a command sent during an
 * upload; proftpd `HiddenStores on`, where the uploaded name does not exist
 * before the `226`; proftpd's default `AllowStoreRestart off`, where `REST`
 * gets `350` and the `STOR` after it `451`; proftpd's per-host limit, said
 * with `530`.
 *
 * @module
 */

import assert from "node:assert/strict";
import { posix } from "node:path";
import { makeNamedDataset, UNICODE_NAMES } from "../helpers/dataset.ts";
import { partialSize, waitFor } from "../helpers/partial.ts";
import { sigtermMidFile } from "../cli/cli_process.ts";
import { realServerTest } from "../helpers/real_server.ts";
import { assertAllUploaded, runInProcess, serverSection } from "./matrix.ts";

const MiB = 1024 * 1024;
/** A folder whose temporary file names make `SIZE` lines of 150+ bytes. */
const LONG = "/длинный путь/日本語のとても長いフォルダー名/emoji 🎉🚀 #1";

/** `n` destinations with long UTF-8 paths, cycling through the unicode names. */
function longPaths(n: number): string[] {
  return Array.from({ length: n }, (_, i) => posix.join(LONG, `${i} ${UNICODE_NAMES[i % 10]}`));
}

realServerTest(
  "pure-ftpd (issue 9 #1): 120 files with long UTF-8 paths: none failed, no reconnect",
  { kind: "pure-ftpd" },
  async (server) => {
    const data = await makeNamedDataset({
      destinations: longPaths(120),
      server: serverSection(server),
      // A command pure-ftpd drops is never answered: a short timeout keeps a failure quick.
      options: { workers: 4, timeoutMs: 5000 },
    });
    try {
      const report = await runInProcess(server, data);
      await assertAllUploaded(server, data, report);
      assert.equal(report.totals.reconnects, 0);
      assert.ok(report.files.every((f) => f.attempts === 1));
    } finally {
      await Deno.remove(data.dir, { recursive: true });
    }
  },
);

realServerTest(
  "proftpd HiddenStores on (issue 9 #2): 120 files, each uploaded on the first attempt",
  { kind: "proftpd", proftpd: ["HiddenStores on"] },
  async (server) => {
    const data = await makeNamedDataset({
      destinations: longPaths(120),
      server: serverSection(server),
      options: { workers: 4 },
    });
    try {
      const report = await runInProcess(server, data);
      await assertAllUploaded(server, data, report);
      assert.ok(report.files.every((f) => f.attempts === 1));
    } finally {
      await Deno.remove(data.dir, { recursive: true });
    }
  },
);

realServerTest(
  "proftpd AllowStoreRestart off (issue 9 #3): a partial file is re-sent in full, no resume claimed",
  { kind: "proftpd", maxRate: 4 * MiB },
  async (server) => {
    const size = 24 * MiB;
    const data = await makeNamedDataset({
      destinations: ["/big file.bin"],
      sizeOf: () => size,
      server: serverSection(server),
      options: { workers: 1, report: "report.json", retries: 3, backoffBaseMs: 100 },
    });
    try {
      const env = { FTPBATCH_TEST_PW: server.password };
      // proftpd keeps an aborted upload (DeleteAbortedStores off): REST of it gets 350, STOR 451.
      const { left } = await sigtermMidFile(server.root, data.configPath, { min: 2 * MiB, env });
      assert.ok(left > 0 && left < size, `partial ${left}`);

      const report = await runInProcess(server, data);
      await assertAllUploaded(server, data, report);
      const [f] = report.files;
      assert.deepEqual(f.resumedFrom, [], "no resume is claimed where none happened");
      assert.equal(f.bytesSent, size, "one full re-send");
      assert.ok(
        /"REST \d+" 350/.test(await server.log()),
        "the server took REST and refused later",
      );
    } finally {
      await Deno.remove(data.dir, { recursive: true });
    }
  },
);

realServerTest(
  "proftpd per-host limit (issue 9 #4): a reconnect refused with '530 ... maximum number of " +
    "clients' waits for the slot",
  { kind: "proftpd", maxPerIp: 1, maxRate: 2 * MiB },
  async (server) => {
    const data = await makeNamedDataset({
      destinations: ["/a.bin", ...longPaths(5)],
      sizeOf: (i) => (i === 0 ? 6 * MiB : 1000),
      server: serverSection(server),
      options: { workers: 1, retries: 4, backoffBaseMs: 200, backoffMaxMs: 1000 },
    });
    let squatter: Deno.TcpConn | undefined;
    try {
      const run = runInProcess(server, data);
      await waitFor("an upload under way", async () => {
        const n = await partialSize(server.root);
        return n !== undefined && n > MiB && server.sessionPids().length === 1 ? n : undefined;
      });
      // A second connection, not logged in: proftpd counts it, and checks the limit at PASS.
      // Then the worker's connection is cut: its next login gets proftpd's "530 Sorry, the
      // maximum number of clients (1) from your host are already connected." until the second
      // connection leaves.
      const [worker] = server.sessionPids(); // before the third connection gets its own process
      squatter = await Deno.connect({ hostname: server.host, port: server.port });
      const greeting = new Uint8Array(512);
      assert.match(
        new TextDecoder().decode(greeting.subarray(0, (await squatter.read(greeting)) ?? 0)),
        /^220 /,
      );
      Deno.kill(worker, "SIGKILL");
      await waitFor(
        "a login refused with 530",
        async () => /"PASS \(hidden\)" 530/.test(await server.log()) || undefined,
        8000,
      ).catch(async (e) => {
        throw new Error(`${e.message}; log:\n${(await server.log()).slice(-2500)}`);
      });
      await new Promise((r) => setTimeout(r, 1000));
      squatter.close();
      squatter = undefined;
      const report = await run;
      await assertAllUploaded(server, data, report);
      assert.ok(report.totals.reconnects >= 1);
    } finally {
      squatter?.close();
      await Deno.remove(data.dir, { recursive: true });
    }
  },
);
