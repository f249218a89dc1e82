/**
 * The timed runs of one data set: every tool at every connection count and
 * RTT, `runs` rounds in rotated order (so no tool always runs first), each on
 * an emptied server root, each checked against the server's tree afterwards
 * (a run that did not upload everything is a failure, not a time), with the
 * commands vsftpd logged, the CPU used, and the start-up milestones.
 *
 * @module
 */

import type { DataSet } from "./datasets.ts";
import { type LatencyFacts, type LatencySettings, throughLatency } from "./latency.ts";
import { loadAvg, machineBusyS } from "./machine.ts";
import {
  countCommands,
  emptyRoot,
  type LogCursor,
  MILESTONES,
  verifyTree,
  watchLog,
} from "./server_check.ts";
import { type ServerInfo, spawnTimed, type Tool } from "./tools.ts";

/** One timed run of one tool. */
export interface RunRecord {
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

/** What every run of a benchmark shares. */
export interface RunSetting {
  server: ServerInfo;
  root: string;
  cursor: LogCursor;
  scratch: string;
  timeoutMs: number;
  latency: LatencySettings;
  signal: AbortSignal;
  /** Throws when the benchmark was interrupted. */
  checkAbort: () => void;
  log: (line: string) => void;
}

/** One run's place in the plan. */
interface Combo {
  tool: Tool;
  parallel: number;
  rttMs: number;
}

/**
 * Every (tool, connections, RTT) of a set; sequential tools once per RTT, and the raw
 * floor at one connection beside them (their ratio's reference).
 */
export function combos(
  tools: Tool[],
  parallels: number[],
  rtts: number[],
  raw: Tool | undefined,
): Combo[] {
  const out: Combo[] = [];
  for (const rttMs of rtts) {
    for (const tool of tools) {
      if (tool.sequential) out.push({ tool, parallel: 1, rttMs });
      else for (const p of parallels) out.push({ tool, parallel: p, rttMs });
    }
    if (tools.some((t) => t.sequential) && tools.some((t) => t.name === "raw") && raw) {
      if (!parallels.includes(1)) out.push({ tool: raw, parallel: 1, rttMs });
    }
  }
  return out;
}

/** `runs` rounds of `plan` over `set`, the order rotated each round. */
export async function measureSet(
  set: DataSet,
  plan: Combo[],
  runs: number,
  s: RunSetting,
): Promise<RunRecord[]> {
  const records: RunRecord[] = [];
  for (let round = 0; round < runs; round++) {
    const shift = round % plan.length;
    for (const combo of [...plan.slice(shift), ...plan.slice(0, shift)]) {
      s.checkAbort();
      const rec = await runOnce(set, combo, round, s);
      records.push(rec);
      s.log(describe(rec, runs));
    }
  }
  return records;
}

/** One run on an emptied server root, and what the server then holds. */
async function runOnce(
  set: DataSet,
  { tool, parallel, rttMs }: Combo,
  round: number,
  s: RunSetting,
): Promise<RunRecord> {
  await emptyRoot(s.root);
  await spawnTimed("sync", [], { timeoutMs: 60_000 }).catch(() => {});
  const mark = await s.cursor.mark();
  const loadBefore = loadAvg();
  const cpu0 = machineBusyS();
  const t0 = performance.now();
  const watch = watchLog(s.cursor, mark, MILESTONES, t0, { until: "stor" });
  const { result: res, latency } = await throughLatency(
    rttMs,
    s.server,
    s.latency,
    { files: set.files.length, connections: parallel },
    (server) =>
      tool.run({
        server,
        set,
        parallel,
        scratch: s.scratch,
        timeoutMs: s.timeoutMs,
        signal: s.signal,
      }),
  );
  const machineCpuS = machineBusyS() - cpu0;
  const milestones = await watch.stop();
  const firstStorS = milestones.stor;
  s.checkAbort();
  // Let session processes finish writing their log lines.
  await new Promise((r) => setTimeout(r, 50));
  const { connections, commands } = countCommands(await s.cursor.since(mark));
  const sample = set.name === "large" ? [set.sample[round % set.sample.length]] : set.sample;
  const problems = await verifyTree(s.root, set, sample);
  if (res.error) problems.unshift(res.error);
  const total = Object.values(commands).reduce((a, b) => a + b, 0);
  return {
    set: set.name,
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
}

/** The line a run leaves on stderr. */
function describe(rec: RunRecord, runs: number): string {
  const status = rec.ok ? "ok" : `FAILED: ${rec.problems.slice(0, 3).join("; ")}`;
  const cpu = `CPU tool ${rec.toolCpuS?.toFixed(2) ?? "-"} s / machine ${
    rec.machineCpuS.toFixed(2)
  } s`;
  const latency = rec.latency;
  const rt = latency
    ? `RTT ${rec.rttMs} ms (proxy ${latency.proxyLateMs.toFixed(2)} ms late per release): ${
      latency.roundTripsPerFile.toFixed(2)
    } round trips/file, `
    : "";
  return `[${rec.set} ${rec.round}/${runs}] ${rec.tool} ×${rec.parallel}: ${
    rec.wallS.toFixed(2)
  } s ${status} (${rt}first STOR ${rec.firstStorS?.toFixed(2) ?? "-"} s, ${
    rec.commandsPerFile.toFixed(2)
  } cmds/file, ${rec.connections} control conns, ${cpu}, load ${rec.loadBefore.toFixed(2)})`;
}
