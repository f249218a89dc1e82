/**
 * The planning benchmark: a config of many tiny files. Two measurements:
 *
 * 1. `--dry-run` (config load, source checks, planning, report): wall time
 *    and peak RSS. This is the "planning" target.
 * 2. A real upload, timed from spawn to the first `STOR` in vsftpd's log
 *    (start to first byte), peak RSS up to then; then it is stopped with
 *    SIGTERM (or, with `full`, left to finish: total time and peak RSS).
 *
 * Peak RSS is `VmHWM` of the deno process from `/proc/PID/status`, sampled
 * every 5 ms (the kernel's high-water mark, so only the last few ms before
 * exit can be missed); for the dry run GNU time's exact maxrss is also taken
 * when `/usr/bin/time` exists.
 *
 * @module
 */

import { makePlanningFiles } from "./datasets.ts";
import { emptyRoot, listFiles, LogCursor, MILESTONES, watchLog } from "./server_check.ts";
import { DENO_RUN_FLAGS, PASSWORD_ENV, project, type ServerInfo } from "./tools.ts";

export interface PlanningResult {
  entries: number;
  configBytes: number;
  generateS: number;
  dryRun: {
    ok: boolean;
    error?: string;
    wallS: number;
    reportDurationMs?: number;
    peakRssMiB: number;
    peakRssMiBExact?: number;
  };
  firstByte: {
    ok: boolean;
    error?: string;
    workers: number;
    toFirstStorS?: number;
    /** Seconds from spawn to the first CONNECT, OK LOGIN, MKD and STOR in vsftpd's log. */
    milestones?: Record<string, number>;
    rssAtFirstStorMiB?: number;
    /** Until exit (after SIGTERM, or the whole upload with `full`). */
    peakRssMiB: number;
    exitCode: number;
    full: boolean;
    totalS?: number;
    filesOnServer?: number;
  };
}

async function vmHwmKiB(pid: number): Promise<number | undefined> {
  try {
    const m = (await Deno.readTextFile(`/proc/${pid}/status`)).match(/^VmHWM:\s+(\d+) kB/m);
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Polls a process's VmHWM until `stop()`; `peak` is the highest seen. */
function rssSampler(pid: number) {
  let peak = 0;
  let running = true;
  const loop = (async () => {
    while (running) {
      const v = await vmHwmKiB(pid);
      if (v !== undefined && v > peak) peak = v;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return {
    get peakKiB() {
      return peak;
    },
    async sampleNow() {
      const v = await vmHwmKiB(pid);
      if (v !== undefined && v > peak) peak = v;
      return peak;
    },
    async stop() {
      running = false;
      await loop;
      return peak;
    },
  };
}

const MiB = (kib: number) => Math.round((kib / 1024) * 10) / 10;

/** What the planning benchmark is given. */
interface PlanningOptions {
  server: ServerInfo;
  serverRoot: string;
  serverLog: string;
  scratch: string;
  entries: number;
  workers: number;
  full: boolean;
  timeoutMs: number;
  log: (line: string) => void;
}

/** How both phases start ftpbatch on the generated config. */
interface Launch {
  uploadArgs: string[];
  env: Record<string, string>;
  report: string;
}

/**
 * The planning benchmark: a config of `entries` tiny files, then a `--dry-run`
 * (wall time, peak RSS) and a real upload to its first STOR (time, RSS).
 */
export async function runPlanning(opts: PlanningOptions): Promise<PlanningResult> {
  const t0 = performance.now();
  const files = await makePlanningFiles(`${opts.scratch}/planning-src`, opts.entries);
  const configPath = `${opts.scratch}/planning.json`;
  const text = JSON.stringify({
    server: {
      host: opts.server.host,
      port: opts.server.port,
      user: opts.server.user,
      passwordEnv: PASSWORD_ENV,
    },
    options: {},
    files,
  });
  await Deno.writeTextFile(configPath, text);
  const generateS = (performance.now() - t0) / 1000;
  opts.log(`planning: ${opts.entries} entries generated in ${generateS.toFixed(1)} s`);
  const env = { [PASSWORD_ENV]: opts.server.password, LC_ALL: "C.UTF-8" };
  const report = `${opts.scratch}/planning-report.json`;
  const uploadArgs = [...DENO_RUN_FLAGS, project.main, "upload", configPath, "--quiet", "--report"];

  const launch = { uploadArgs, env, report };
  const dryRun = await dryRunPhase(opts, launch);
  const firstByte = await firstBytePhase(opts, launch);
  return { entries: opts.entries, configBytes: text.length, generateS, dryRun, firstByte };
}

/** `--dry-run` of the whole config: wall time and peak RSS (GNU time's, where there is one). */
async function dryRunPhase(opts: PlanningOptions, { uploadArgs, env, report }: Launch) {
  const timeBin = await Deno.stat("/usr/bin/time").then(() => "/usr/bin/time", () => null);
  const maxrssFile = `${opts.scratch}/planning.maxrss`;
  const dryArgs = [...uploadArgs, report, "--dry-run"];
  const start1 = performance.now();
  const child1 = timeBin
    ? new Deno.Command(timeBin, {
      args: ["-f", "%M", "-o", maxrssFile, Deno.execPath(), ...dryArgs],
      env,
      cwd: project.dir,
      stdout: "null",
      stderr: "piped",
    }).spawn()
    : new Deno.Command(Deno.execPath(), {
      args: dryArgs,
      env,
      cwd: project.dir,
      stdout: "null",
      stderr: "piped",
    }).spawn();
  // Under GNU time, deno is time's child: sample that pid.
  let samplePid = child1.pid;
  if (timeBin) {
    for (let i = 0; i < 200; i++) {
      const kids = await Deno.readTextFile(`/proc/${child1.pid}/task/${child1.pid}/children`)
        .catch(() => "");
      if (kids.trim()) {
        samplePid = Number(kids.trim().split(/\s+/)[0]);
        break;
      }
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  const sampler1 = rssSampler(samplePid);
  const out1 = await child1.output();
  const wall1 = (performance.now() - start1) / 1000;
  const peak1 = await sampler1.stop();
  let exact: number | undefined;
  if (timeBin) {
    const m = (await Deno.readTextFile(maxrssFile).catch(() => "")).match(/(\d+)\s*$/);
    if (m) exact = Number(m[1]);
  }
  let dryError: string | undefined;
  let reportDurationMs: number | undefined;
  if (out1.code !== 0) {
    dryError = `dry run exited ${out1.code}: ${new TextDecoder().decode(out1.stderr).slice(-400)}`;
  } else {
    const r = JSON.parse(await Deno.readTextFile(report));
    reportDurationMs = r.durationMs;
    if (r.totals.planned !== opts.entries) {
      dryError = `dry run report: ${r.totals.planned} planned of ${opts.entries}`;
    }
  }
  await Deno.remove(report).catch(() => {});
  const dryRun = {
    ok: !dryError,
    ...(dryError ? { error: dryError } : {}),
    wallS: wall1,
    reportDurationMs,
    peakRssMiB: MiB(Math.max(peak1, exact ?? 0)),
    ...(exact !== undefined ? { peakRssMiBExact: MiB(exact) } : {}),
  };
  opts.log(
    `planning: dry run ${wall1.toFixed(2)} s, peak RSS ${dryRun.peakRssMiB} MiB${
      dryError ? ` FAILED: ${dryError}` : ""
    }`,
  );

  return dryRun;
}

/** A real upload, stopped after its first STOR unless `full`: time to it, RSS, peak RSS. */
async function firstBytePhase(opts: PlanningOptions, { uploadArgs, env, report }: Launch) {
  await emptyRoot(opts.serverRoot);
  const cursor = new LogCursor(opts.serverLog);
  const mark = await cursor.mark();
  const start2 = performance.now();
  const child2 = new Deno.Command(Deno.execPath(), {
    args: [...uploadArgs, report, "--workers", String(opts.workers)],
    env,
    cwd: project.dir,
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const sampler2 = rssSampler(child2.pid);
  const stderr2 = new Response(child2.stderr).text();
  let exited = false;
  const status2 = child2.status.then((s) => {
    exited = true;
    return s;
  });
  let toFirst: number | undefined;
  let rssAtFirst: number | undefined;
  const deadline = start2 + opts.timeoutMs;
  const watch = watchLog(cursor, mark, MILESTONES, start2, { until: "stor" });
  let giveUp: ReturnType<typeof setTimeout> | undefined;
  const first = await Promise.race([
    watch.found,
    status2.then(() => undefined),
    new Promise<undefined>((r) => giveUp = setTimeout(() => r(undefined), opts.timeoutMs)),
  ]);
  clearTimeout(giveUp);
  if (first !== undefined) {
    toFirst = first;
    rssAtFirst = await sampler2.sampleNow();
  }
  const milestones = await watch.stop();
  if (!opts.full && !exited) {
    try {
      child2.kill("SIGTERM");
    } catch {
      // gone
    }
  }
  const timer = setTimeout(() => {
    try {
      child2.kill("SIGKILL");
    } catch {
      // gone
    }
  }, Math.max(1000, deadline - performance.now()));
  const st = await status2;
  clearTimeout(timer);
  const total = (performance.now() - start2) / 1000;
  const peak2 = await sampler2.stop();
  const errText = (await stderr2).slice(-400);
  let fbError: string | undefined;
  if (toFirst === undefined) {
    fbError = `no STOR seen before exit/timeout (exit ${st.code}): ${errText}`;
  } else if (opts.full && st.code !== 0) fbError = `upload exited ${st.code}: ${errText}`;
  let filesOnServer: number | undefined;
  if (opts.full) {
    filesOnServer = (await listFiles(opts.serverRoot)).size;
    if (!fbError && filesOnServer !== opts.entries) {
      fbError = `${filesOnServer} files on the server, expected ${opts.entries}`;
    }
  }
  await Deno.remove(report).catch(() => {});
  await emptyRoot(opts.serverRoot);
  const firstByte = {
    ok: !fbError,
    ...(fbError ? { error: fbError } : {}),
    workers: opts.workers,
    toFirstStorS: toFirst,
    milestones,
    rssAtFirstStorMiB: rssAtFirst !== undefined ? MiB(rssAtFirst) : undefined,
    peakRssMiB: MiB(peak2),
    exitCode: st.code,
    full: opts.full,
    ...(opts.full ? { totalS: total, filesOnServer } : {}),
  };
  opts.log(
    `planning: first STOR after ${toFirst?.toFixed(2) ?? "-"} s (RSS ${
      firstByte.rssAtFirstStorMiB ?? "-"
    } MiB), ${
      opts.full ? `total ${total.toFixed(1)} s` : "then stopped"
    }, peak RSS ${firstByte.peakRssMiB} MiB${fbError ? ` FAILED: ${fbError}` : ""}`,
  );
  return firstByte;
}
