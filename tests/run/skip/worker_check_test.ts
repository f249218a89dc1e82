/**
 * The skip check on the first worker's login (`src/run/skip/worker_check.ts`),
 * seen from the server: no login of its own, no listing of a folder under a
 * missing one, the first STOR right after the folders on a first run, and
 * nothing sent by a re-run of an unchanged tree.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { compareTree } from "../../helpers/dataset.ts";
import { upload, withDataset } from "../../helpers/embedded.ts";
import { integrationTest } from "../../helpers/kit.ts";

/** Commands the server got before its first STOR (all of them when there was none). */
function beforeFirstStor(commands: string[]): string[] {
  const first = commands.findIndex((c) => c.startsWith("STOR"));
  return first < 0 ? commands : commands.slice(0, first);
}

type Scene = Parameters<typeof withDataset>;

/** A test on a fresh embedded server and dataset. */
function datasetTest(name: string, ...[dataset, serverOptions, fn]: Scene): void {
  integrationTest(name, async () => {
    await withDataset(dataset, serverOptions, fn);
  });
}

/** A first run of the dataset, checked to succeed, then `reRun` on the same server and data. */
function reRunTest(name: string, ...[dataset, serverOptions, reRun]: Scene): void {
  datasetTest(name, dataset, serverOptions, async (scene) => {
    assert.equal((await upload(scene.data)).exitCode, 0);
    await reRun(scene);
  });
}

const READS = /^(CWD|LIST|MLSD|NLST|MLST|SIZE|MDTM)\b/;

datasetTest(
  "first run to an empty server: one login per connection, one CWD, no listing",
  { count: 30, sizeOf: (i) => 100 + i, options: { workers: 3 } },
  {},
  async ({ server, data }) => {
    const outcome = await upload(data);
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(await compareTree(server.root, data.expected), []);
    // The skip check rode on the first worker's login: three connections, three logins.
    assert.equal(outcome.report.workers, 3);
    assert.equal(server.stats.logins, 3);
    const early = beforeFirstStor(server.stats.commands);
    // /upload is not there, so nothing below it is asked or listed.
    assert.deepEqual(early.filter((c) => READS.test(c)), ["CWD /upload"]);
    assert.equal(early.filter((c) => c.startsWith("PASS")).length >= 1, true);
  },
);

datasetTest(
  "a folder under a missing folder is not asked for, the others are listed",
  { count: 12, sizeOf: (i) => 100 + i, options: { workers: 2 } },
  {},
  async ({ server, data }) => {
    // /upload/plain exists (empty); /upload/международный does not.
    await Deno.mkdir(join(server.root, "upload", "plain"), { recursive: true });
    const outcome = await upload(data);
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(await compareTree(server.root, data.expected), []);
    const reads = beforeFirstStor(server.stats.commands).filter((c) => READS.test(c));
    const intl = reads.filter((c) => c.includes("международный"));
    assert.deepEqual(intl, ["CWD /upload/международный"]);
    // The folders below /upload/plain are asked (each found missing), never listed.
    assert.equal(reads.some((c) => /^(LIST|MLSD|NLST)/.test(c)), false);
    assert.equal(server.stats.logins, 2);
  },
);

reRunTest(
  "re-runs: unchanged sends no STOR on one login; a changed file goes alone",
  { count: 9, sizeOf: (i) => 300 + i, options: { workers: 3 } },
  {},
  async ({ server, data }) => {
    const stors = () => server.stats.commands.filter((c) => c.startsWith("STOR")).length;
    const lists = () => server.stats.commands.filter((c) => /^(LIST|MLSD)/.test(c)).length;
    const quits = () => server.stats.commands.filter((c) => c === "QUIT").length;
    let logins = server.stats.logins;
    let sent = stors();
    const quitted = quits();
    const same = await upload(data);
    assert.equal(same.exitCode, 0);
    assert.equal(same.summary.totals.skipped, 9);
    assert.equal(stors() - sent, 0);
    assert.equal(server.stats.logins - logins, 1);
    assert.ok(lists() > 0);
    // The worker that checked, with nothing to send, logs out rather than vanishing.
    assert.equal(quits() - quitted, 1);

    // One file changed (other size): sent alone, over the login that checked.
    const [changed] = [...data.expected.values()];
    await Deno.writeTextFile(changed, "changed");
    logins = server.stats.logins;
    sent = stors();
    const again = await upload(data);
    assert.equal(again.exitCode, 0);
    assert.equal(again.summary.totals.uploaded, 1);
    assert.equal(again.summary.totals.skipped, 8);
    assert.equal(stors() - sent, 1);
    assert.equal(server.stats.logins - logins, 1);
    assert.deepEqual(await compareTree(server.root, data.expected), []);
  },
);

reRunTest(
  "a re-run over many folders stays within the connections asked for (the server allows 2)",
  { count: 80, sizeOf: (i) => 200 + i, options: { workers: 2 } },
  { faults: { maxConnections: 2 } },
  async ({ server, data }) => {
    const [changed] = [...data.expected.values()];
    await Deno.writeTextFile(changed, "changed");
    const lines: string[] = [];
    const again = await upload(data, { log: (l) => lines.push(l) });
    assert.equal(again.exitCode, 0);
    assert.equal(again.summary.totals.uploaded, 1);
    assert.deepEqual(await compareTree(server.root, data.expected), []);
    // More than 16 folders: read over a second connection too, closed before the uploads.
    assert.ok(server.stats.peakConnections <= 2);
    assert.equal(lines.some((l) => /too many/i.test(l)), false, lines.join("\n"));
  },
);

reRunTest(
  "a re-run with a new folder: workers told ahead and not needed log out too",
  { count: 9, sizeOf: (i) => 300 + i, options: { workers: 3 } },
  {},
  async ({ server, data }) => {
    // One new file in a folder the server does not have: one file to send, three warm.
    const config = JSON.parse(await Deno.readTextFile(data.configPath));
    const source = join(data.dir, "new.txt");
    await Deno.writeTextFile(source, "new file");
    config.files.push({ source, destination: "/upload/brand-new/new.txt" });
    await Deno.writeTextFile(data.configPath, JSON.stringify(config));
    const quits = () => server.stats.commands.filter((c) => c === "QUIT").length;
    const logins = server.stats.logins;
    const quitted = quits();
    const again = await upload(data);
    assert.equal(again.exitCode, 0);
    assert.equal(again.summary.totals.uploaded, 1);
    assert.equal(again.summary.totals.skipped, 9);
    assert.equal(
      await Deno.readTextFile(join(server.root, "upload/brand-new/new.txt")),
      "new file",
    );
    // Every connection of the run said goodbye, used or not.
    assert.equal(
      quits() - quitted,
      server.stats.logins - logins,
      `${quits() - quitted} QUIT for ${server.stats.logins - logins} logins`,
    );
  },
);
