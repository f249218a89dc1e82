/**
 * One owner per file: however a worker ends, the files it held go back to the
 * queue (or fail with a reason), and the run ends. Faults come from the fault
 * proxy in front of the embedded server; bytes are checked on the server's disk.
 */
import assert from "node:assert/strict";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { startEmbeddedServer } from "../../src/server/embedded_server.ts";
import { compareTree, listTree, makeDataset } from "../helpers/dataset.ts";
import { type ProxyFaults, startFaultProxy } from "../helpers/fault_proxy.ts";

const integration = { sanitizeOps: false, sanitizeResources: false };
/** A run that has not ended by then is stuck (each one takes a second or two). */
const BOUND_MS = 120_000;

async function throughProxy(
  faults: ProxyFaults,
  count: number,
  options: Record<string, unknown>,
  workerUrl?: URL,
) {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-root-" });
  const server = await startEmbeddedServer({ root, port: 0 });
  const proxy = await startFaultProxy({ host: server.host, port: server.port }, faults);
  const data = await makeDataset({
    count,
    sizeOf: (i) => 1000 + i * 37,
    server: { host: proxy.host, port: proxy.port },
    options: { retries: 4, backoffBaseMs: 20, backoffMaxMs: 200, skip: "none", ...options },
  });
  const stop = new AbortController();
  const logged: string[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const config = await loadConfig(data.configPath);
    const run = runUpload({ config, signal: stop.signal, workerUrl, log: (l) => logged.push(l) });
    const ended = await Promise.race([
      run.then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), BOUND_MS)),
    ]);
    if (!ended) stop.abort("SIGTERM");
    const outcome = await run;
    return {
      ended,
      logged,
      outcome,
      proxy,
      mismatches: await compareTree(root, data.expected),
      tree: await listTree(root),
    };
  } finally {
    clearTimeout(timer);
    await proxy.close();
    await server.close();
    await Deno.remove(root, { recursive: true });
    await Deno.remove(data.dir, { recursive: true });
  }
}

/**
 * 24 files on two workers through `faults`, the first reconnect (session 3) greeted with
 * `421`; the run must end and the 421 must have been sent.
 */
async function refusedOnReconnect(faults: ProxyFaults) {
  const run = await throughProxy(
    {
      ...faults,
      greetInstead: { reply: "421 Too many connections (2) from this IP", sessions: [3] },
    },
    24,
    { workers: 2 },
  );
  assert.ok(run.ended, "the run ended");
  assert.ok(run.proxy.stats.exchanges.some((e) => e.reply.startsWith("421")), "421 was sent");
  return run;
}

Deno.test({
  name:
    "a cut while renames are pipelined, then a 421 greeting on the reconnect: no file is stranded",
  ...integration,
  async fn() {
    // Sessions 1 and 2 are the two workers; session 3 is the first reconnect after the cut.
    const { outcome, mismatches, tree } = await refusedOnReconnect({
      closeOn: { verb: "RNFR", after: 4 },
    });
    const files = outcome.report.files;
    assert.deepEqual(files.filter((f) => f.status !== "uploaded").map((f) => f.error), []);
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(mismatches, []);
    assert.equal(tree.filter((p) => p.includes(".ftpbatch-")).length, 0);
  },
});

Deno.test({
  name:
    "a pending rename retried on a new connection that is refused (421): handed back, the run ends",
  ...integration,
  async fn() {
    // Every RNFR gets a reply that fits no rename: a rename sent ahead of the next file
    // drops the session, and its file is tried again on a new connection (session 3, after
    // the two workers' own), which the server refuses as one too many.
    const { outcome, mismatches } = await refusedOnReconnect({
      answerInstead: { verb: "RNFR", reply: "200 Odd reply", after: 1, times: 1000 },
    });
    const files = outcome.report.files;
    assert.equal(files.length, 24);
    // No rename can succeed: every file failed, each with a reason, none left unanswered.
    assert.deepEqual(files.filter((f) => f.status !== "failed"), []);
    assert.deepEqual(files.filter((f) => !f.error || f.error === "interrupted"), []);
    assert.equal(outcome.exitCode, 1);
    assert.equal(mismatches.length, 24);
  },
});

const losingWorker = new URL("../helpers/losing_worker.ts", import.meta.url);

/** 24 files through the proxy on workers that lose files as `FTPBATCH_TEST_LOSE` says. */
async function withLosingWorker(
  lose: string,
  options: Parameters<typeof throughProxy>[2],
): ReturnType<typeof throughProxy> {
  Deno.env.set("FTPBATCH_TEST_LOSE", lose);
  try {
    return await throughProxy({}, 24, options, losingWorker);
  } finally {
    Deno.env.delete("FTPBATCH_TEST_LOSE");
  }
}

Deno.test({
  name: "a worker that never answers for a file it holds: the file goes to another, the run ends",
  ...integration,
  async fn() {
    const { ended, outcome, mismatches, logged } = await withLosingWorker("result", {
      workers: 2,
    });
    assert.ok(ended, "the run ended");
    assert.ok(logged.some((l) => l.includes("second line of defence")), logged.join("\n"));
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(mismatches, []);
  },
});

Deno.test({
  name: "a worker that falls silent with files in hand: the watchdog ends it, the run ends",
  ...integration,
  async fn() {
    const { ended, outcome, mismatches, logged } = await withLosingWorker("silence", {
      workers: 2,
      timeoutMs: 2000,
      backoffMaxMs: 200,
    });
    assert.ok(ended, "the run ended");
    assert.ok(logged.some((l) => l.startsWith("watchdog")), logged.join("\n"));
    assert.equal(outcome.exitCode, 0);
    assert.deepEqual(mismatches, []);
  },
});
