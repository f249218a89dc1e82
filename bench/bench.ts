/**
 * `deno task bench`: ftpbatch against lftp, rclone and curl on a real vsftpd
 * on loopback, next to the floors of this machine.
 *
 * How to run:
 *
 * ```sh
 * deno task bench                                  # the full spec (about 4 min on 2 CPUs)
 * deno task bench --sets small --runs 1 --parallel 4 --tools ftpbatch,lftp --planning 0
 * deno task bench --sets one --parallel 4 --tools ftpbatch-task,ftpbatch,lftp --planning 0 --no-floors
 * deno task bench --sets small --tools ftpbatch,ftpbatch-noatomic,raw,raw-atomic --parallel 1,4,8
 * deno task bench --project ../other-worktree --sets small,large --tools ftpbatch   # a branch
 * deno task bench --latency 20,100 --sets small --tools ftpbatch,lftp,rclone,curl --planning 0 --no-floors
 * ```
 *
 * Flags: `--sets one,small,mixed,large` · `--runs N` (3) · `--tools
 * ftpbatch,lftp,rclone,curl,raw` (also `ftpbatch-task`: `deno task upload` as a user runs
 * it, `ftpbatch-noatomic`, `raw-atomic`) · `--parallel 4,8`
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
 *   1 KiB–8 MiB), `large` (4 × 256 MiB), `one` (one 4 KiB file: start-up).
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
 * `bench/results/bench-<time>.json` (not in git: the figures quoted are in
 * `docs/benchmarks.md`, with their dates). Temp data and the server are removed at
 * the end, also on error or Ctrl-C.
 *
 * @module
 */

import { makeSet, type SetName } from "./datasets.ts";
import { type Floors, measureFloors } from "./floors.ts";
import { exportRef, gitState, loadAvg } from "./machine.ts";
import { type BenchOptions, parseOptions } from "./options.ts";
import { type PlanningResult, runPlanning } from "./planning.ts";
import { type RerunResult, rerunTargets, runRerun } from "./rerun.ts";
import { combos, measureSet, type RunRecord, type RunSetting } from "./run_set.ts";
import { emptyRoot, LogCursor } from "./server_check.ts";
import { checkTargets, renderTable, summarize } from "./summary.ts";
import { allTools, project, type ServerInfo, type Tool } from "./tools.ts";
import { type RealServer, startRealServer } from "../tests/helpers/real_server.ts";

const log = (line: string) => console.error(line);
/** `--ftps`: where vsftpd listens (the blind latency proxy takes 127.0.0.1's ports). */
const FTPS_ADDRESS = "127.0.0.3";

/** What the measurements gave, before they are summed up. */
interface Measured {
  records: RunRecord[];
  floors?: Partial<Floors>;
  planning?: PlanningResult;
  rerun?: RerunResult;
}

async function main(): Promise<number> {
  // `--million`: the 1,000,000-file folder source (bench/million.ts), with its own flags.
  if (Deno.args.includes("--million")) {
    const { million } = await import("./million.ts");
    return await million(Deno.args.filter((a) => a !== "--million"));
  }
  const known = allTools();
  const o = parseOptions(Deno.args, new Set(known.keys()));
  if (typeof o === "number") return o;
  if (o.project) project.dir = o.project;
  const notes: string[] = [];
  const tools = await availableTools(o.toolNames, known, notes);

  // Others may edit the checkout during a run: its state at start and end.
  const gitAtStart = await gitState();
  const tmp = await Deno.makeTempDir({ prefix: "ftpbatch-bench-" });
  let ref: string | undefined;
  if (o.ref) {
    try {
      ref = await exportRef(o.ref, `${tmp}/ref`);
      log(`benchmarking ${o.ref} (${ref}) exported to ${project.dir}`);
    } catch (e) {
      console.error(`--ref ${o.ref}: ${(e as Error).message}`);
      await Deno.remove(tmp, { recursive: true }).catch(() => {});
      return 2;
    }
  }
  const started = new Date();
  let measured: Measured | undefined;
  try {
    measured = await withSignals((signal) => measureAll(o, tools, known, tmp, signal));
  } finally {
    if (o.keep) log(`kept ${tmp}`);
    else await Deno.remove(tmp, { recursive: true }).catch(() => {});
  }
  if (!measured) return 1;
  const git = ref ? { ref: o.ref, commit: ref } : { atStart: gitAtStart, atEnd: await gitState() };
  await report(o, measured, notes, started, git);
  const { records, planning, rerun } = measured;
  return records.every((r) => r.ok) &&
      (!planning || (planning.dryRun.ok && planning.firstByte.ok)) &&
      (!rerun || rerun.problems.length === 0)
    ? 0
    : 1;
}

/** The tools asked for that can run here; the others are noted and left out. */
async function availableTools(
  names: string[],
  known: Map<string, Tool>,
  notes: string[],
): Promise<Tool[]> {
  const tools: Tool[] = [];
  for (const name of names) {
    const t = known.get(name)!;
    const why = await t.check();
    if (why) {
      notes.push(`${name} skipped: ${why}`);
      log(`note: ${name} skipped: ${why}`);
    } else tools.push(t);
  }
  return tools;
}

/** Runs `fn`; Ctrl-C / SIGTERM abort its signal (the current child is killed, then cleaned up). */
async function withSignals<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  const onSignal = () => {
    if (!abort.signal.aborted) log("interrupted: stopping the current run and cleaning up");
    abort.abort();
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  try {
    return await fn(abort.signal);
  } finally {
    Deno.removeSignalListener("SIGINT", onSignal);
    Deno.removeSignalListener("SIGTERM", onSignal);
  }
}

/**
 * Everything measured against one vsftpd: the floors, each data set (and the re-run of the
 * small one), then planning. `undefined` when there is no real server here.
 */
async function measureAll(
  o: BenchOptions,
  tools: Tool[],
  known: Map<string, Tool>,
  tmp: string,
  signal: AbortSignal,
): Promise<Measured | undefined> {
  // FTPS: on 127.0.0.3, so that the blind latency proxy can take 127.0.0.1's ports.
  const server: RealServer | null = await startRealServer(
    o.ftps ? { tls: true, address: FTPS_ADDRESS } : {},
  );
  if (!server) {
    console.error(
      "no real FTP server: the benchmark needs root, vsftpd, unshare and mount (apt-get install -y vsftpd)",
    );
    return undefined;
  }
  try {
    const info: ServerInfo = {
      host: o.ftps ? FTPS_ADDRESS : server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      ...(o.ftps ? { ftps: { caFile: `${server.dir}/ca.pem`, dataPorts: server.pasvPorts } } : {}),
    };
    const setting: RunSetting = {
      server: info,
      root: server.root,
      cursor: new LogCursor(server.logFile),
      scratch: `${tmp}/scratch`,
      timeoutMs: o.timeoutMs,
      latency: o.latency,
      signal,
      checkAbort: () => {
        if (signal.aborted) throw new Interrupted();
      },
      log,
    };
    log(`vsftpd on ${info.host}:${info.port}, root ${server.root}; temp data in ${tmp}`);
    await Deno.mkdir(setting.scratch);
    const out: Measured = { records: [] };
    if (o.floors) {
      setting.checkAbort();
      out.floors = await measureFloors(info, () => emptyRoot(server.root), log);
    }
    const plan = combos(tools, o.parallels, o.rtts, known.get("raw"));
    const withRerun = o.rerun && tools.some((t) => t.name === "ftpbatch");
    const sets = { ...setting, setsDir: `${tmp}/sets` };
    for (const name of o.sets) await measureDataSet(name, o, plan, withRerun, sets, out);
    if (o.planningEntries > 0) {
      setting.checkAbort();
      out.planning = await runPlanning({
        server: info,
        serverRoot: server.root,
        serverLog: server.logFile,
        scratch: setting.scratch,
        entries: o.planningEntries,
        workers: 8,
        full: o.planningFull,
        timeoutMs: o.timeoutMs,
        log,
      });
    }
    return out;
  } finally {
    await server.close().catch((e) => log(`could not stop vsftpd: ${e}`));
  }
}

/** One data set: made, every planned run, the re-run of the small set, then removed. */
async function measureDataSet(
  name: SetName,
  o: BenchOptions,
  plan: ReturnType<typeof combos>,
  withRerun: boolean,
  s: RunSetting & { setsDir: string },
  out: Measured,
): Promise<void> {
  const { setsDir } = s;
  s.checkAbort();
  const g0 = performance.now();
  const set = await makeSet(name, setsDir);
  log(
    `set ${name}: ${set.files.length} files, ${
      (set.bytes / 1e6).toFixed(1)
    } MB, ${set.dirs.length} folders, generated in ${
      ((performance.now() - g0) / 1000).toFixed(1)
    } s`,
  );
  out.records.push(...await measureSet(set, plan, o.runs, s));
  if (name === "small" && withRerun) {
    s.checkAbort();
    out.rerun = await runRerun({
      server: s.server,
      serverRoot: s.root,
      cursor: s.cursor,
      set,
      scratch: s.scratch,
      parallel: o.parallels[0],
      timeoutMs: o.timeoutMs,
      signal: s.signal,
      log,
    });
  }
  await emptyRoot(s.root);
  await Deno.remove(set.dir, { recursive: true });
}

/** The table on stdout, and all of it as JSON in `--out` (`bench/results/bench-<time>.json`). */
async function report(
  o: BenchOptions,
  { records, floors, planning, rerun }: Measured,
  notes: string[],
  started: Date,
  git: Record<string, string | undefined>,
): Promise<void> {
  const rows = summarize(records);
  const targets = [
    ...checkTargets(rows, planning, o.ftps),
    ...(rerun ? rerunTargets(rerun) : []),
  ];
  console.log(renderTable(rows, floors, planning, targets, notes));
  const result = {
    version: 1,
    startedAt: started.toISOString(),
    finishedAt: new Date().toISOString(),
    git,
    project: project.dir,
    machine: {
      cpus: navigator.hardwareConcurrency,
      deno: Deno.version.deno,
      os: Deno.build.os,
      kernel: Deno.osRelease(),
      loadAtEnd: loadAvg(),
    },
    args: o.args,
    notes,
    floors,
    rows,
    targets,
    planning,
    rerun,
    runs: records,
  };
  await Deno.mkdir(o.outDir, { recursive: true });
  const file = `${o.outDir}/bench-${started.toISOString().replace(/[:.]/g, "-")}.json`;
  await Deno.writeTextFile(`${file}.tmp`, JSON.stringify(result, null, 2) + "\n");
  await Deno.rename(`${file}.tmp`, file);
  log(`results: ${file}`);
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
