/**
 * `deno task bench`: ftpbatch against lftp, rclone and curl on a real vsftpd
 * on loopback, next to the floors of this machine.
 *
 * How to run:
 *
 * ```sh
 * deno task bench                                  # the full spec (about 4 min on 2 CPUs)
 * deno task bench --sets small --runs 1 --parallel 4 --tools ftpbatch,lftp --planning 0
 * deno task bench --sets small --tools ftpbatch,ftpbatch-noatomic,raw,raw-atomic --parallel 1,4,8
 * deno task bench --project ../other-worktree --sets small,large --tools ftpbatch   # a branch
 * deno task bench --latency 20,100 --sets small --tools ftpbatch,lftp,rclone,curl --planning 0 --no-floors
 * ```
 *
 * Flags: `--sets small,mixed,large` · `--runs N` (3) · `--tools
 * ftpbatch,lftp,rclone,curl,raw` (also `ftpbatch-noatomic`, `raw-atomic`) · `--parallel 4,8`
 * · `--planning N` entries for the planning benchmark (100000; 0 skips it) ·
 * `--planning-full` (let that upload finish) · `--no-floors` · `--timeout S`
 * per run (900) · `--keep` (leave the temp folder) · `--out DIR`
 * (`bench/results`) · `--project DIR` (benchmark the ftpbatch of another
 * checkout, e.g. a branch worktree, with this harness) · `--ref REV`
 * (benchmark commit REV, exported with `git archive` to the temp folder:
 * edits made to the working tree during the run cannot change what is
 * measured; without it the working tree as it is at each run is measured) ·
 * `--latency 0,20,100` RTTs in ms (0 = loopback, the default): every run
 * through the latency proxy of `latency.ts` at each RTT, round trips per file
 * counted · `--latency-mbit N` bandwidth cap per connection and direction ·
 * `--no-handshake` (connections open in no time: not what a real link does).
 *
 * Needs: root, `vsftpd`, `unshare`, `mount` (as `deno task test` does; the
 * server is `tests/helpers/real_server.ts`: vsftpd on 127.0.0.1, a free port,
 * a throwaway root, a local test user). Optional, from Debian, the user's
 * choice: `apt-get install -y lftp rclone curl`; a missing tool is skipped
 * with a note.
 *
 * What it measures:
 *
 * - Data sets, generated deterministically in a temp folder: `small` (2,000 ×
 *   4 KiB, 40 nested folders, a third non-ASCII names), `mixed` (200 files,
 *   1 KiB–8 MiB), `large` (4 × 256 MiB).
 * - For every set, run, tool and parallelism (4 and 8; curl sequential,
 *   one process reusing its connection): the server root is emptied, the
 *   tool runs as a user would run it (ftpbatch: `deno run ... main.ts upload
 *   CONFIG --workers N --quiet --report FILE`, exit 0 and the report's totals
 *   checked), then the server tree is checked: every path, every size, no
 *   extra files, sha256 of a sample. A run that did not upload everything is
 *   a failure, not a time. Runs alternate tools (order rotated per round).
 *   vsftpd's protocol log gives the commands each run sent, per file, and
 *   when the first connection, login, MKD and STOR happened (start-up cost).
 *   GNU time (`/usr/bin/time`, when present) gives each tool's CPU seconds;
 *   `/proc/stat` the whole machine's busy CPU during the run, and the load
 *   average before it is recorded: on a shared machine, others' work shows
 *   there (compare tool CPU, it is the steadier number).
 * - Floors: Deno loopback TCP throughput, NOOP round trip, one minimal STOR
 *   of a 4 KiB file on one connection (and ftpbatch's atomic sequence done by
 *   a minimal client), `deno run main.ts --version` start-up, and the `raw`
 *   tool: an in-process minimal client (PASV+STOR per file on N connections;
 *   `raw-atomic` sends ftpbatch's per-file command sequence instead).
 * - Re-run (`rerun.ts`, with the small set and ftpbatch; `--no-rerun` leaves it
 *   out): the same upload again with nothing changed (no STOR, under 10 % of the
 *   first run's wall time), then after touching 10 files (exactly those sent).
 * - Planning: a 100,000-entry config of tiny files: `--dry-run` wall time and
 *   peak RSS; a real upload's time to the first STOR and its peak RSS.
 *
 * Output: a table (median and min–max wall seconds, files/s, MB/s with MB =
 * 10^6 bytes, ratio to lftp at the same parallelism, ratio to the raw floor),
 * the targets of the issue with PASS/FAIL, and all of it as JSON in
 * `bench/results/bench-<time>.json`. Temp data and the server are removed at
 * the end, also on error or Ctrl-C.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type DataSet, makeSet, SET_NAMES, type SetName } from "./datasets.ts";
import { denoStartup, type Floors, noopRtt, tcpThroughput, tinyUploads } from "./floors.ts";
import { type PlanningResult, runPlanning } from "./planning.ts";
import {
  countCommands,
  emptyRoot,
  LogCursor,
  MILESTONES,
  verifyTree,
  watchLog,
} from "./server_check.ts";
import { resolve } from "node:path";
import { allTools, project, type ServerInfo, spawnTimed, type Tool } from "./tools.ts";
import { type RealServer, startRealServer } from "../tests/helpers/real_server.ts";
import { type LatencyFacts, latencyTargets, parseRtts, throughLatency } from "./latency.ts";
import { type RerunResult, rerunTargets, runRerun } from "./rerun.ts";

interface RunRecord {
  set: string;
  tool: string;
  parallel: number;
  /** Round trip time through the latency proxy (0: loopback, no proxy). */
  rttMs: number;
  round: number;
  files: number;
  bytes: number;
  ok: boolean;
  wallS: number;
  exitCode: number;
  problems: string[];
  connections: number;
  commands: Record<string, number>;
  commandsPerFile: number;
  /** CPU seconds of the tool's process (GNU time; raw: this process). */
  toolCpuS?: number;
  toolMaxRssMiB?: number;
  /** Busy CPU seconds of the whole machine during the run (all CPUs): tool + vsftpd + anyone else. */
  machineCpuS: number;
  /** 1-minute load average before the run: others' work shows here. */
  loadBefore: number;
  /** Seconds from spawn to the first STOR in vsftpd's log (start-up, login, folders). */
  firstStorS?: number;
  /** Seconds from spawn to the first CONNECT, OK LOGIN, MKD, STOR in vsftpd's log. */
  milestones: Record<string, number>;
  extra?: Record<string, unknown>;
  /** Through the latency proxy: round trips counted, see latency.ts. */
  latency?: LatencyFacts;
}

interface Row {
  set: string;
  tool: string;
  parallel: number;
  rttMs: number;
  runs: number;
  failures: number;
  medianS?: number;
  minS?: number;
  maxS?: number;
  filesPerS?: number;
  mbPerS?: number;
  vsLftp?: number;
  vsFloor?: number;
  commandsPerFile?: number;
  toolCpuS?: number;
  machineCpuS?: number;
  firstStorS?: number;
  roundTripsPerFile?: number;
}

const USAGE = `usage: deno task bench [--sets small,mixed,large] [--runs N] [--tools LIST]
  [--parallel 4,8] [--planning N] [--planning-full] [--no-floors] [--timeout S] [--keep] [--out DIR]
  [--project DIR]   (benchmark the ftpbatch checkout in DIR, e.g. a branch worktree)
  [--ref REV]       (benchmark commit REV of that checkout, exported to a temp folder)
  [--latency 0,20,100] [--latency-mbit N] [--no-handshake]   (RTTs in ms through a latency proxy)
  [--no-rerun]      (skip the re-run measurement of the small set, see rerun.ts)
tools: ftpbatch, ftpbatch-noatomic, lftp, rclone, curl, raw, raw-atomic`;

function list(value: string | undefined, fallback: string[]): string[] {
  return value === undefined ? fallback : value.split(",").map((s) => s.trim()).filter((s) => s);
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const log = (line: string) => console.error(line);

/** Busy CPU seconds of the machine so far, all CPUs (from /proc/stat). */
function machineBusyS(): number {
  const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
    .map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
  const busy = f.slice(0, 8).reduce((a, b) => a + b, 0) - f[3] - f[4];
  return busy / 100;
}

function loadAvg(): number {
  return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
}

async function gitState(): Promise<string> {
  const cwd = project.dir;
  const head = await spawnTimed("git", ["rev-parse", "--short", "HEAD"], { cwd, timeoutMs: 10_000 })
    .catch(() => null);
  const dirty = await spawnTimed("git", ["status", "--porcelain", "src", "workers", "main.ts"], {
    cwd,
    timeoutMs: 10_000,
  }).catch(() => null);
  if (!head || head.code !== 0) return "unknown";
  return head.stdout.trim() + (dirty?.stdout.trim() ? " (src/workers modified)" : "");
}

/**
 * Exports commit `rev` of the project to `dir` (git archive, plus a copy of
 * the project's node_modules) and points `project` at it; returns the hash.
 */
async function exportRef(rev: string, dir: string): Promise<string> {
  const git = (args: string[]) =>
    spawnTimed("git", ["-C", project.dir, ...args], { timeoutMs: 60_000 });
  const hash = await git(["rev-parse", "--verify", `${rev}^{commit}`]);
  if (hash.code !== 0) throw new Error(hash.stderr.trim() || "not a commit");
  const commit = hash.stdout.trim();
  await Deno.mkdir(dir, { recursive: true });
  const archive = `${dir}.tar`;
  const out = await git(["archive", "--format=tar", "-o", archive, commit]);
  if (out.code !== 0) throw new Error(`git archive: ${out.stderr.trim()}`);
  const tar = await spawnTimed("tar", ["-xf", archive, "-C", dir], { timeoutMs: 60_000 });
  if (tar.code !== 0) throw new Error(`tar: ${tar.stderr.trim()}`);
  await Deno.remove(archive);
  // npm packages as installed here (deno.lock pins them); a file vanishing mid-copy is fine.
  await spawnTimed("cp", ["-a", `${project.dir}/node_modules`, `${dir}/`], { timeoutMs: 120_000 });
  await Deno.stat(`${dir}/node_modules`);
  project.dir = dir;
  return commit;
}

async function main(): Promise<number> {
  // `--million`: the 1,000,000-file folder source (bench/million.ts), with its own flags.
  if (Deno.args.includes("--million")) {
    const { million } = await import("./million.ts");
    return await million(Deno.args.filter((a) => a !== "--million"));
  }
  let values;
  try {
    ({ values } = parseArgs({
      args: Deno.args,
      options: {
        sets: { type: "string" },
        runs: { type: "string" },
        tools: { type: "string" },
        parallel: { type: "string" },
        planning: { type: "string" },
        "planning-full": { type: "boolean" },
        "no-floors": { type: "boolean" },
        timeout: { type: "string" },
        keep: { type: "boolean" },
        out: { type: "string" },
        project: { type: "string" },
        ref: { type: "string" },
        latency: { type: "string" },
        "latency-mbit": { type: "string" },
        "no-handshake": { type: "boolean" },
        "no-rerun": { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
    }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const sets = list(values.sets, [...SET_NAMES]);
  const runs = Number(values.runs ?? 3);
  const toolNames = list(values.tools, ["ftpbatch", "lftp", "rclone", "curl", "raw"]);
  const parallels = list(values.parallel, ["4", "8"]).map(Number);
  const planningEntries = Number(values.planning ?? 100_000);
  const timeoutMs = Number(values.timeout ?? 900) * 1000;
  const floorsWanted = !values["no-floors"];
  const rtts = parseRtts(values.latency);
  const mbit = values["latency-mbit"] === undefined ? undefined : Number(values["latency-mbit"]);
  const latencySettings = {
    handshake: !values["no-handshake"],
    ...(mbit ? { mbitPerS: mbit } : {}),
  };
  const outDir = values.out ?? new URL("./results", import.meta.url).pathname;
  if (values.project) project.dir = resolve(values.project);
  const known = allTools();
  const bad = [
    ...sets.filter((s) => !SET_NAMES.includes(s as SetName)).map((s) => `set "${s}"`),
    ...toolNames.filter((t) => !known.has(t)).map((t) => `tool "${t}"`),
    ...(parallels.some((p) => !Number.isInteger(p) || p < 1 || p > 64) ? ["--parallel"] : []),
    ...(!Number.isInteger(runs) || runs < 1 ? ["--runs"] : []),
    ...(!Number.isInteger(planningEntries) || planningEntries < 0 ? ["--planning"] : []),
    ...(!(timeoutMs > 0) ? ["--timeout"] : []),
    ...(rtts === null ? ["--latency"] : []),
    ...(mbit !== undefined && !(mbit > 0) ? ["--latency-mbit"] : []),
  ];
  if (bad.length) {
    console.error(`unknown or invalid: ${bad.join(", ")}\n${USAGE}`);
    return 2;
  }

  // Ctrl-C / SIGTERM: kill the current child, then clean up in `finally`.
  const abort = new AbortController();
  const onSignal = () => {
    if (!abort.signal.aborted) log("interrupted: stopping the current run and cleaning up");
    abort.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  const checkAbort = () => {
    if (abort.signal.aborted) throw new Interrupted();
  };

  const notes: string[] = [];
  const tools: Tool[] = [];
  for (const name of toolNames) {
    const t = known.get(name)!;
    const why = await t.check();
    if (why) {
      notes.push(`${name} skipped: ${why}`);
      log(`note: ${name} skipped: ${why}`);
    } else tools.push(t);
  }

  // Others may edit the checkout during a run: its state at start and end.
  const gitAtStart = await gitState();
  const tmp = await Deno.makeTempDir({ prefix: "ftpbatch-bench-" });
  let ref: string | undefined;
  if (values.ref) {
    try {
      ref = await exportRef(values.ref, `${tmp}/ref`);
      log(`benchmarking ${values.ref} (${ref}) exported to ${project.dir}`);
    } catch (e) {
      console.error(`--ref ${values.ref}: ${(e as Error).message}`);
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      return 2;
    }
  }
  let server: RealServer | null = null;
  const records: RunRecord[] = [];
  let floors: Partial<Floors> | undefined;
  let planning: PlanningResult | undefined;
  let rerun: RerunResult | undefined;
  const started = new Date();
  try {
    server = await startRealServer();
    if (!server) {
      console.error(
        "no real FTP server: the benchmark needs root, vsftpd, unshare and mount (apt-get install -y vsftpd)",
      );
      return 1;
    }
    const info: ServerInfo = {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
    };
    const root = server.root;
    const cursor = new LogCursor(server.logFile);
    log(`vsftpd on ${info.host}:${info.port}, root ${root}; temp data in ${tmp}`);
    const scratch = `${tmp}/scratch`;
    await Deno.mkdir(scratch);

    if (floorsWanted) {
      checkAbort();
      log("floors: loopback TCP, NOOP, tiny STOR, deno start-up ...");
      floors = {};
      floors.tcp = [await tcpThroughput(2 * 2 ** 30, 1), await tcpThroughput(2 * 2 ** 30, 4)];
      floors.noop = await noopRtt(info);
      floors.tinyStor = await tinyUploads(info, "/floor-stor", 1000, false);
      floors.tinyAtomic = await tinyUploads(info, "/floor-atomic", 1000, true);
      await emptyRoot(root);
      floors.denoStartup = await denoStartup();
      log(
        `floors: TCP ${
          floors.tcp.map((t) => `${t.mbPerS.toFixed(0)} MB/s ×${t.streams}`).join(", ")
        }; ` +
          `NOOP ${floors.noop.medianMs.toFixed(3)} ms; tiny STOR ${
            floors.tinyStor.meanMs.toFixed(3)
          } ms/file; ` +
          `atomic sequence ${floors.tinyAtomic.meanMs.toFixed(3)} ms/file; deno start-up ${
            floors.denoStartup.medianS.toFixed(2)
          } s`,
      );
    }

    for (const setName of sets as SetName[]) {
      checkAbort();
      const g0 = performance.now();
      const set: DataSet = await makeSet(setName, `${tmp}/sets`);
      log(
        `set ${setName}: ${set.files.length} files, ${
          (set.bytes / 1e6).toFixed(1)
        } MB, ${set.dirs.length} folders, generated in ${
          ((performance.now() - g0) / 1000).toFixed(1)
        } s`,
      );
      // Every (tool, parallelism) pair of this set; sequential tools once.
      const combos: { tool: Tool; parallel: number; rttMs: number }[] = [];
      for (const rttMs of rtts!) {
        for (const tool of tools) {
          if (tool.sequential) combos.push({ tool, parallel: 1, rttMs });
          else for (const p of parallels) combos.push({ tool, parallel: p, rttMs });
        }
        // The raw floor at one connection, for the sequential tools' ratio.
        if (tools.some((t) => t.sequential) && tools.some((t) => t.name === "raw")) {
          if (!parallels.includes(1)) combos.push({ tool: known.get("raw")!, parallel: 1, rttMs });
        }
      }
      for (let round = 0; round < runs; round++) {
        const shift = round % combos.length;
        const order = [...combos.slice(shift), ...combos.slice(0, shift)];
        for (const { tool, parallel, rttMs } of order) {
          checkAbort();
          await emptyRoot(root);
          await spawnTimed("sync", [], { timeoutMs: 60_000 }).catch(() => {});
          const mark = await cursor.mark();
          const loadBefore = loadAvg();
          const cpu0 = machineBusyS();
          const t0 = performance.now();
          const watch = watchLog(cursor, mark, MILESTONES, t0, { until: "stor" });
          const { result: res, latency } = await throughLatency(
            rttMs,
            info,
            latencySettings,
            { files: set.files.length, connections: parallel },
            (server) =>
              tool.run({ server, set, parallel, scratch, timeoutMs, signal: abort.signal }),
          );
          const machineCpuS = machineBusyS() - cpu0;
          const milestones = await watch.stop();
          const firstStorS = milestones.stor;
          checkAbort();
          // Let session processes finish writing their log lines.
          await new Promise((r) => setTimeout(r, 50));
          const { connections, commands } = countCommands(await cursor.since(mark));
          const sample = setName === "large" ? [set.sample[round % set.sample.length]] : set.sample;
          const problems = await verifyTree(root, set, sample);
          if (res.error) problems.unshift(res.error);
          const total = Object.values(commands).reduce((a, b) => a + b, 0);
          const rec: RunRecord = {
            set: setName,
            tool: tool.name,
            parallel,
            rttMs,
            round: round + 1,
            files: set.files.length,
            bytes: set.bytes,
            ok: problems.length === 0,
            wallS: res.wallS,
            exitCode: res.exitCode,
            problems,
            connections,
            commands,
            commandsPerFile: total / set.files.length,
            ...(res.usage ? { toolCpuS: res.usage.cpuS } : {}),
            ...(res.usage && !Number.isNaN(res.usage.maxRssMiB)
              ? { toolMaxRssMiB: res.usage.maxRssMiB }
              : {}),
            machineCpuS,
            loadBefore,
            ...(firstStorS !== undefined ? { firstStorS } : {}),
            milestones,
            ...(res.extra ? { extra: res.extra } : {}),
            ...(latency ? { latency } : {}),
          };
          records.push(rec);
          const status = rec.ok ? "ok" : `FAILED: ${problems.slice(0, 3).join("; ")}`;
          const cpu = `CPU tool ${rec.toolCpuS?.toFixed(2) ?? "-"} s / machine ${
            machineCpuS.toFixed(2)
          } s`;
          const rt = latency
            ? `RTT ${rttMs} ms (proxy ${latency.proxyLateMs.toFixed(2)} ms late per release): ${
              latency.roundTripsPerFile.toFixed(2)
            } round trips/file, `
            : "";
          log(
            `[${setName} ${round + 1}/${runs}] ${tool.name} ×${parallel}: ${
              res.wallS.toFixed(2)
            } s ${status} (${rt}first STOR ${firstStorS?.toFixed(2) ?? "-"} s, ${
              rec.commandsPerFile.toFixed(2)
            } cmds/file, ${connections} control conns, ${cpu}, load ${loadBefore.toFixed(2)})`,
          );
        }
      }
      if (setName === "small" && !values["no-rerun"] && tools.some((t) => t.name === "ftpbatch")) {
        checkAbort();
        rerun = await runRerun({
          server: info,
          serverRoot: root,
          cursor,
          set,
          scratch,
          parallel: parallels[0],
          timeoutMs,
          signal: abort.signal,
          log,
        });
      }
      await emptyRoot(root);
      await Deno.remove(set.dir, { recursive: true });
    }

    if (planningEntries > 0) {
      checkAbort();
      planning = await runPlanning({
        server: info,
        serverRoot: root,
        serverLog: server.logFile,
        scratch,
        entries: planningEntries,
        workers: 8,
        full: Boolean(values["planning-full"]),
        timeoutMs,
        log,
      });
    }
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
    if (server) await server.close().catch((e) => log(`could not stop vsftpd: ${e}`));
    if (values.keep) log(`kept ${tmp}`);
    else await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }

  const rows = summarize(records);
  const targets = [...checkTargets(rows, planning), ...(rerun ? rerunTargets(rerun) : [])];
  console.log(renderTable(rows, floors, planning, targets, notes));
  const result = {
    version: 1,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    git: ref ? { ref: values.ref, commit: ref } : { atStart: gitAtStart, atEnd: await gitState() },
    project: project.dir,
    machine: {
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      os: Deno.build.os,
      kernel: Deno.osRelease(),
      loadAtEnd: loadAvg(),
    },
    args: Deno.args,
    notes,
    floors,
    rows,
    targets,
    planning,
    rerun,
    runs: records,
  };
  await Deno.mkdir(outDir, { recursive: true });
  const file = `${outDir}/bench-${started.toISOString().replace(/[:.]/g, "-")}.json`;
  await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(result, null, 2) + "\n");
  await Deno.rename(`${file}.tmp`, file);
  log(`results: ${file}`);
  return records.every((r) => r.ok) &&
      (!planning || (planning.dryRun.ok && planning.firstByte.ok)) &&
      (!rerun || rerun.problems.length === 0)
    ? 0
    : 1;
}

function summarize(records: RunRecord[]): Row[] {
  const groups = new Map<string, RunRecord[]>();
  for (const r of records) {
    const key = `${r.set}\0${r.tool}\0${r.parallel}\0${r.rttMs}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const rows: Row[] = [];
  for (const rs of groups.values()) {
    const ok = rs.filter((r) => r.ok);
    const first = rs[0];
    const row: Row = {
      set: first.set,
      tool: first.tool,
      parallel: first.parallel,
      rttMs: first.rttMs,
      runs: rs.length,
      failures: rs.length - ok.length,
    };
    if (ok.length > 0) {
      const times = ok.map((r) => r.wallS);
      const { files, bytes } = first;
      row.medianS = median(times);
      row.minS = Math.min(...times);
      row.maxS = Math.max(...times);
      row.filesPerS = files / row.medianS;
      row.mbPerS = bytes / 1e6 / row.medianS;
      row.commandsPerFile = median(ok.map((r) => r.commandsPerFile));
      const cpu = ok.filter((r) => r.toolCpuS !== undefined).map((r) => r.toolCpuS!);
      if (cpu.length) row.toolCpuS = median(cpu);
      row.machineCpuS = median(ok.map((r) => r.machineCpuS));
      const fs = ok.filter((r) => r.firstStorS !== undefined).map((r) => r.firstStorS!);
      if (fs.length) row.firstStorS = median(fs);
      const rt = ok.filter((r) => r.latency).map((r) => r.latency!.roundTripsPerFile);
      if (rt.length) row.roundTripsPerFile = median(rt);
    }
    rows.push(row);
  }
  for (const row of rows) {
    const lftp = rows.find((r) =>
      r.set === row.set && r.tool === "lftp" && r.parallel === row.parallel &&
      r.rttMs === row.rttMs
    );
    const floor = rows.find((r) =>
      r.set === row.set && r.tool === "raw" && r.parallel === row.parallel &&
      r.rttMs === row.rttMs
    );
    if (row.medianS !== undefined && lftp?.medianS) row.vsLftp = row.medianS / lftp.medianS;
    if (row.medianS !== undefined && floor?.medianS) row.vsFloor = row.medianS / floor.medianS;
  }
  const setOrder = (s: string) => SET_NAMES.indexOf(s as SetName);
  const toolOrder = (t: string) =>
    ["ftpbatch", "ftpbatch-noatomic", "lftp", "rclone", "curl", "raw", "raw-atomic"].indexOf(t);
  return rows.sort((a, b) =>
    setOrder(a.set) - setOrder(b.set) || a.rttMs - b.rttMs || a.parallel - b.parallel ||
    toolOrder(a.tool) - toolOrder(b.tool)
  );
}

interface Target {
  name: string;
  goal: string;
  value?: string;
  pass?: boolean;
}

function checkTargets(rows: Row[], planning?: PlanningResult): Target[] {
  const out: Target[] = [];
  const get = (set: string, tool: string, p: number) =>
    rows.find((r) => r.set === set && r.tool === tool && r.parallel === p && r.rttMs === 0);
  for (const p of [4, 8]) {
    const f = get("small", "ftpbatch", p);
    const l = get("small", "lftp", p);
    if (!f && !l) continue;
    const ratio = f?.medianS && l?.medianS ? f.medianS / l.medianS : undefined;
    out.push({
      name: `small ×${p}: ftpbatch wall / lftp wall`,
      goal: "≤ 0.80",
      value: ratio?.toFixed(2) ?? (f?.failures ? "ftpbatch failed" : "n/a"),
      pass: ratio === undefined ? (f?.failures ? false : undefined) : ratio <= 0.8,
    });
  }
  for (const p of [4, 8]) {
    const f = get("large", "ftpbatch", p);
    const l = get("large", "lftp", p);
    if (!f && !l) continue;
    const ratio = f?.mbPerS && l?.mbPerS ? f.mbPerS / l.mbPerS : undefined;
    out.push({
      name: `large ×${p}: ftpbatch MB/s / lftp MB/s`,
      goal: "≥ 0.95",
      value: ratio?.toFixed(2) ?? (f?.failures ? "ftpbatch failed" : "n/a"),
      pass: ratio === undefined ? (f?.failures ? false : undefined) : ratio >= 0.95,
    });
  }
  out.push(...latencyTargets(rows));
  if (planning) {
    const d = planning.dryRun;
    out.push({
      name: `planning ${planning.entries} entries: --dry-run wall`,
      goal: "< 2 s",
      value: d.ok ? `${d.wallS.toFixed(2)} s` : "failed",
      pass: d.ok && d.wallS < 2,
    });
    out.push({
      name: `planning ${planning.entries} entries: --dry-run peak RSS`,
      goal: "< 300 MiB",
      value: `${d.peakRssMiB} MiB`,
      pass: d.ok && d.peakRssMiB < 300,
    });
    const fb = planning.firstByte;
    out.push({
      name: `${planning.entries} entries, real upload ×${fb.workers}: start → first STOR`,
      goal: "< 2 s",
      value: fb.toFirstStorS !== undefined ? `${fb.toFirstStorS.toFixed(2)} s` : "none",
      pass: fb.toFirstStorS !== undefined && fb.toFirstStorS < 2,
    });
    out.push({
      name: `${planning.entries} entries, real upload: peak RSS ${
        fb.full ? "(whole run)" : "(to first STOR, then SIGTERM)"
      }`,
      goal: "< 300 MiB",
      value: `${fb.peakRssMiB} MiB`,
      pass: fb.peakRssMiB < 300,
    });
  }
  return out;
}

function renderTable(
  rows: Row[],
  floors: Partial<Floors> | undefined,
  planning: PlanningResult | undefined,
  targets: Target[],
  notes: string[],
): string {
  const head = [
    "set",
    "tool",
    "conns",
    "median s",
    "min–max s",
    "files/s",
    "MB/s",
    "×lftp",
    "×floor",
    "1st STOR s",
    "cmds/file",
    "tool CPU s",
    "all CPU s",
    "ok",
  ];
  const body = rows.map((r) => [
    r.set,
    r.tool === "raw" ? "raw (floor)" : r.tool === "raw-atomic" ? "raw-atomic (floor)" : r.tool,
    String(r.parallel),
    r.medianS?.toFixed(2) ?? "FAIL",
    r.minS !== undefined ? `${r.minS.toFixed(2)}–${r.maxS!.toFixed(2)}` : "-",
    r.filesPerS?.toFixed(0) ?? "-",
    r.mbPerS?.toFixed(1) ?? "-",
    r.vsLftp?.toFixed(2) ?? "-",
    r.vsFloor?.toFixed(2) ?? "-",
    r.firstStorS?.toFixed(2) ?? "-",
    r.commandsPerFile?.toFixed(1) ?? "-",
    r.toolCpuS?.toFixed(2) ?? "-",
    r.machineCpuS?.toFixed(2) ?? "-",
    `${r.runs - r.failures}/${r.runs}`,
  ]);
  // Latency mode: the RTT after the connections, the round trips counted after the commands.
  if (rows.some((r) => r.rttMs > 0)) {
    head.splice(11, 0, "RT/file");
    head.splice(3, 0, "RTT ms");
    rows.forEach((r, i) => {
      body[i].splice(11, 0, r.roundTripsPerFile?.toFixed(2) ?? "-");
      body[i].splice(3, 0, r.rttMs ? String(r.rttMs) : "0 (lo)");
    });
  }
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) =>
    "| " + cells.map((c, i) => c.padEnd(widths[i])).join(" | ") + " |";
  const out = [
    line(head),
    "|" + widths.map((w) => "-".repeat(w + 2)).join("|") + "|",
    ...body.map(line),
    "",
    "median/min–max: wall seconds of the successful runs (failed runs give no time; ok = good/all).",
    "×lftp: median / lftp's median at the same conns. ×floor: median / the raw client's at the same conns.",
    "1st STOR: spawn → first STOR in vsftpd's log. cmds/file: FTP commands (logins included) / files.",
    ...(rows.some((r) => r.rttMs > 0)
      ? [
        "RTT: through the latency proxy (0 = loopback). RT/file: round trips counted by the proxy",
        "(connection opens + client turns, logins and folders included) / files: see latency_proxy.ts.",
      ]
      : []),
    "tool CPU: user+sys of the tool's processes. all CPU: busy CPU of the machine during the run",
    `(tool + vsftpd + kernel + anything else running); ${navigator.hardwareConcurrency} CPUs here, so at most ${navigator.hardwareConcurrency} s per wall second.`,
  ];
  if (floors) {
    out.push("", "Floors:");
    for (const t of floors.tcp ?? []) {
      out.push(
        `  loopback TCP (Deno→Deno, ${t.streams} stream${t.streams > 1 ? "s" : ""}): ${
          t.mbPerS.toFixed(0)
        } MB/s`,
      );
    }
    if (floors.noop) {
      out.push(
        `  NOOP round trip: median ${floors.noop.medianMs.toFixed(3)} ms (p90 ${
          floors.noop.p90Ms.toFixed(3)
        })`,
      );
    }
    if (floors.tinyStor) {
      out.push(
        `  one 4 KiB STOR (PASV+STOR+226), one connection: ${
          floors.tinyStor.meanMs.toFixed(3)
        } ms/file = ${floors.tinyStor.filesPerS.toFixed(0)} files/s`,
      );
    }
    if (floors.tinyAtomic) {
      out.push(
        `  same + ftpbatch's SIZE/SIZE/RNFR/RNTO, minimal client: ${
          floors.tinyAtomic.meanMs.toFixed(3)
        } ms/file = ${floors.tinyAtomic.filesPerS.toFixed(0)} files/s`,
      );
    }
    if (floors.denoStartup) {
      out.push(`  deno run main.ts --version: ${floors.denoStartup.medianS.toFixed(2)} s`);
    }
  }
  if (planning) {
    const d = planning.dryRun, f = planning.firstByte;
    out.push(
      "",
      `Planning (${planning.entries} entries, config ${
        (planning.configBytes / 1e6).toFixed(1)
      } MB):`,
      `  --dry-run: ${d.wallS.toFixed(2)} s wall (runUpload ${
        d.reportDurationMs ?? "-"
      } ms), peak RSS ${d.peakRssMiB} MiB${d.ok ? "" : ` FAILED: ${d.error}`}`,
      `  real upload ×${f.workers}: first STOR after ${f.toFirstStorS?.toFixed(2) ?? "-"} s (RSS ${
        f.rssAtFirstStorMiB ?? "-"
      } MiB); peak RSS ${f.peakRssMiB} MiB${f.full ? `; total ${f.totalS?.toFixed(1)} s` : ""}${
        f.ok ? "" : ` FAILED: ${f.error}`
      }`,
    );
  }
  if (targets.length) {
    out.push("", "Targets:");
    for (const t of targets) {
      const verdict = t.pass === undefined ? "n/a " : t.pass ? "PASS" : "FAIL";
      out.push(`  ${verdict}  ${t.name}: ${t.value ?? "-"} (goal ${t.goal})`);
    }
  }
  for (const n of notes) out.push(`note: ${n}`);
  return out.join("\n");
}

/** Ctrl-C or SIGTERM: cleaned up, nothing to report. */
class Interrupted extends Error {
  constructor() {
    super("interrupted");
  }
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (e) {
    if (!(e instanceof Interrupted)) throw e;
    console.error("interrupted: server stopped, temp data removed");
    Deno.exit(130);
  }
}
