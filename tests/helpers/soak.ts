/**
 * The soak: one seeded run of ftpbatch through the fault proxy's random
 * faults (`fault_proxy.ts`, `chaos`: control cuts after a command, data cut
 * or silent after N bytes, `421` greetings, silent control connections),
 * against the embedded server or vsftpd, then the checks every run must pass:
 * - it ends within a bound;
 * - every file reported `uploaded` is byte-exact on the server;
 * - no destination holds wrong bytes (a file is exact or absent);
 * - the exit code matches the report;
 * - a clean re-run afterwards (no proxy) completes everything and leaves no
 *   `.ftpbatch-*.part` file behind.
 * Used by `soak_test.ts` (a few fixed seeds) and `deno task soak` (many).
 *
 * @module
 */

import { join, posix } from "node:path";
import { loadConfig } from "../../src/config/load.ts";
import { runUpload } from "../../src/run/coordinator.ts";
import { startEmbeddedServer } from "../../src/server/embedded_server.ts";
import { TEMP_MARK } from "../../src/upload/temp_name.ts";
import { listTree, makeNamedDataset, sha256, UNICODE_NAMES } from "./dataset.ts";
import { type ChaosFired, seeded, startFaultProxy } from "./fault_proxy.ts";
import { startServer } from "./real_server.ts";

export type SoakServer = "embedded" | "vsftpd";

export interface SeedResult {
  seed: number;
  server: SoakServer;
  files: number;
  uploaded: number;
  faults: ChaosFired;
  wallMs: number;
  ended: boolean;
  exitCode?: number;
  /** Files reported uploaded whose bytes on the server are not the local ones. */
  wrong: string[];
  /** Destinations holding bytes that are not the local file's (reported or not). */
  torn: string[];
  /** Problems of the other checks (exit code, the re-run). */
  problems: string[];
  /** Files the faulted run reported failed, with the reason (allowed: the re-run must fix them). */
  failed: string[];
  /** Lines the run logged that say a second line of defence acted (the watchdog, a drained worker). */
  defences: string[];
}

/** A run that has not ended by then is stuck (a seed takes a few seconds). */
export const SEED_BOUND_MS = 120_000;

const MiB = 1024 * 1024;

/** One seed: a dataset, a faulted run through the proxy, a clean re-run, the checks. */
export async function soakSeed(seed: number, server: SoakServer): Promise<SeedResult> {
  const rand = seeded(seed * 7919 + 1);
  const count = 20 + Math.floor(rand() * 21);
  const sizes = Array.from({ length: count }, () => {
    const r = rand();
    return r < 0.15 ? 0 : r < 0.6 ? Math.floor(rand() * 8192) : Math.floor(rand() * MiB);
  });
  const destinations = sizes.map((_, i) =>
    posix.join(`/soak/${["a", "b", "Документы", "日本語"][i % 4]}`, `${i} ${UNICODE_NAMES[i % 10]}`)
  );
  const target = await startTarget(server);
  const proxy = await startFaultProxy({ host: target.host, port: target.port }, {
    chaos: {
      seed,
      greet421: 0.1,
      cutAfterCommand: 0.008,
      stallControl: 0.003,
      cutData: 0.08,
      stallData: 0.04,
      max: 12,
    },
  });
  const login = { user: target.user, passwordEnv: "FTPBATCH_SOAK_PW" };
  const options = {
    workers: 4,
    retries: 6,
    timeoutMs: 2000,
    backoffBaseMs: 50,
    backoffMaxMs: 400,
  };
  const data = await makeNamedDataset({
    destinations,
    sizeOf: (i) => sizes[i],
    server: { host: proxy.host, port: proxy.port, ...login },
    options,
  });
  const result: SeedResult = {
    seed,
    server,
    files: count,
    uploaded: 0,
    faults: proxy.stats.chaos,
    wallMs: 0,
    ended: false,
    wrong: [],
    torn: [],
    problems: [],
    failed: [],
    defences: [],
  };
  const logged: string[] = [];
  try {
    const started = performance.now();
    const stop = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = runUpload({
      config: await loadConfig(data.configPath),
      password: target.password,
      signal: stop.signal,
      log: (line) => logged.push(line),
    });
    result.ended = await Promise.race([
      run.then(() => true),
      new Promise<false>((r) => timer = setTimeout(() => r(false), SEED_BOUND_MS)),
    ]);
    clearTimeout(timer);
    if (!result.ended) stop.abort("SIGTERM");
    const outcome = await run;
    result.wallMs = performance.now() - started;
    result.exitCode = outcome.exitCode;
    await proxy.close();
    const files = outcome.report.files;
    result.uploaded = files.filter((f) => f.status === "uploaded").length;
    for (const f of files) {
      if (f.status !== "uploaded") result.failed.push(`${f.destination}: ${f.error ?? f.status}`);
    }
    for (const f of files) {
      const state = await compare(target.root, f.destination, data.expected.get(f.destination)!);
      if (f.status === "uploaded" && state !== "exact") result.wrong.push(f.destination);
      if (state === "wrong") result.torn.push(f.destination);
    }
    result.defences = logged.filter((l) => /watchdog|second line of defence/.test(l));
    if (Deno.env.get("SOAK_DEBUG") && result.torn.length + result.wrong.length > 0) {
      for (const l of logged) console.log(`  log: ${l}`);
      const names = [...result.torn, ...result.wrong].map((d) => posix.basename(d));
      for (const e of proxy.stats.exchanges) {
        if (names.some((n) => e.command.includes(n)) || e.command === "") {
          console.log(`  ${e.session} ${e.command} -> ${e.reply}`);
        }
      }
      for (const d of result.torn) {
        const st = await Deno.stat(join(target.root, d));
        const f = files.find((x) => x.destination === d);
        console.log(`  torn ${d}: server ${st.size} bytes; report ${JSON.stringify(f)}`);
      }
    }
    const failed = files.some((f) => f.status === "failed" || f.status === "missing");
    const expectedExit = outcome.connectError && result.uploaded === 0 ? 3 : failed ? 1 : 0;
    if (result.ended && outcome.exitCode !== expectedExit) {
      result.problems.push(`exit ${outcome.exitCode}, report says ${expectedExit}`);
    }
    result.problems.push(...await cleanRerun(data.configPath, target, proxy, data.expected));
  } finally {
    await proxy.close();
    await target.close();
    await Deno.remove(data.dir, { recursive: true });
  }
  return result;
}

/** The run again, straight to the server: everything there, exact, no temporary file. */
async function cleanRerun(
  configPath: string,
  target: Target,
  proxy: { host: string; port: number },
  expected: Map<string, string>,
): Promise<string[]> {
  const problems: string[] = [];
  const text = await Deno.readTextFile(configPath);
  await Deno.writeTextFile(
    configPath,
    text.replace(`"port": ${proxy.port}`, `"port": ${target.port}`),
  );
  const outcome = await runUpload({
    config: await loadConfig(configPath),
    password: target.password,
  });
  if (outcome.exitCode !== 0) problems.push(`re-run exit ${outcome.exitCode}`);
  for (const [dest, local] of expected) {
    if ((await compare(target.root, dest, local)) !== "exact") problems.push(`re-run: ${dest}`);
  }
  const leftovers = (await listTree(target.root)).filter((p) => p.includes(TEMP_MARK));
  if (leftovers.length > 0) problems.push(`re-run left ${leftovers.join(", ")}`);
  return problems;
}

/** Whether the server's copy of `dest` is the local file's bytes, absent, or wrong. */
async function compare(
  root: string,
  dest: string,
  local: string,
): Promise<"exact" | "absent" | "wrong"> {
  const remote = join(root, dest);
  try {
    await Deno.stat(remote);
  } catch {
    return "absent";
  }
  return (await sha256(remote)) === (await sha256(local)) ? "exact" : "wrong";
}

interface Target {
  host: string;
  port: number;
  user: string;
  password: string;
  root: string;
  close(): Promise<void>;
}

async function startTarget(kind: SoakServer): Promise<Target> {
  if (kind === "vsftpd") {
    const s = await startServer({ kind: "vsftpd" });
    return {
      host: s.host,
      port: s.port,
      user: s.user,
      password: s.password,
      root: s.root,
      close: () => s.close(),
    };
  }
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-soak-" });
  const s = await startEmbeddedServer({ root, port: 0 });
  return {
    host: s.host,
    port: s.port,
    user: "anonymous",
    password: "soak",
    root,
    async close() {
      await s.close();
      await Deno.remove(root, { recursive: true });
    },
  };
}

/** One line per seed. */
export function seedLine(r: SeedResult): string {
  const f = r.faults;
  const faults = f.greet421 + f.cutAfterCommand + f.stallControl + f.cutData + f.stallData;
  const kinds =
    `421 ${f.greet421}, cut ${f.cutAfterCommand}, stall ${f.stallControl}, data cut ${f.cutData}, data stall ${f.stallData}`;
  const bad = [
    ...r.wrong.map((w) => `wrong ${w}`),
    ...r.torn.map((t) => `torn ${t}`),
    ...r.problems,
  ];
  return `seed ${r.seed} (${r.server}): faults ${faults} (${kinds}); uploaded ${r.uploaded}/${r.files}; ` +
    `wall ${(r.wallMs / 1000).toFixed(1)} s; ended ${r.ended ? "yes" : "NO"}; exit ${r.exitCode}` +
    (bad.length > 0 ? `; PROBLEMS: ${bad.join("; ")}` : "") +
    (r.failed.length > 0 ? `; failed: ${r.failed.join("; ")}` : "") +
    (r.defences.length > 0 ? `; defences: ${r.defences.join("; ")}` : "");
}

/** The summary of many seeds. */
export function summary(results: SeedResult[], wallMs: number): string {
  const notEnded = results.filter((r) => !r.ended).length;
  const wrong = results.reduce((n, r) => n + r.wrong.length, 0);
  const torn = results.reduce((n, r) => n + r.torn.length, 0);
  const other = results.filter((r) => r.problems.length > 0).length;
  const faults = results.reduce(
    (n, r) => n + Object.values(r.faults).reduce((a, b) => a + b, 0),
    0,
  );
  return `runs ${results.length}, not ended ${notEnded}, files wrong ${wrong}, torn destinations ${torn}, ` +
    `runs with other problems ${other}, faults injected ${faults}, total wall ${
      (wallMs / 1000).toFixed(0)
    } s`;
}
