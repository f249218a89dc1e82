/**
 * What the benchmark's runs add up to: one row per set, tool, connections and
 * RTT (median and spread of the successful runs, ratios to lftp and to the raw
 * floor), the targets of the issues with PASS/FAIL, and the table people read.
 *
 * @module
 */

import { SET_NAMES, type SetName } from "./datasets.ts";
import type { Floors } from "./floors.ts";
import { latencyTargets } from "./latency.ts";
import type { PlanningResult } from "./planning.ts";
import type { RunRecord } from "./run_set.ts";

/** One line of the table: the runs of one set, tool, connection count and RTT. */
export interface Row {
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
  /** Tool CPU over lftp's at the same set, conns and RTT (medians). */
  cpuVsLftp?: number;
  machineCpuS?: number;
  firstStorS?: number;
  roundTripsPerFile?: number;
}

/** The middle value (the mean of the two middle ones for an even count). */
export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function summarize(records: RunRecord[]): Row[] {
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
    if (row.toolCpuS !== undefined && lftp?.toolCpuS) row.cpuVsLftp = row.toolCpuS / lftp.toolCpuS;
    if (row.medianS !== undefined && floor?.medianS) row.vsFloor = row.medianS / floor.medianS;
  }
  const setOrder = (s: string) => SET_NAMES.indexOf(s as SetName);
  const toolOrder = (t: string) =>
    [
      "ftpbatch",
      "ftpbatch-task",
      "ftpbatch-noatomic",
      "lftp",
      "rclone",
      "curl",
      "raw",
      "raw-atomic",
    ]
      .indexOf(t);
  return rows.sort((a, b) =>
    setOrder(a.set) - setOrder(b.set) || a.rttMs - b.rttMs || a.parallel - b.parallel ||
    toolOrder(a.tool) - toolOrder(b.tool)
  );
}

export interface Target {
  name: string;
  goal: string;
  value?: string;
  pass?: boolean;
}

/** Issue 19's targets for the rows that were run; over FTPS (`--ftps`) its FTPS targets. */
export function checkTargets(rows: Row[], planning?: PlanningResult, ftps = false): Target[] {
  if (ftps) return ftpsTargets(rows);
  const out: Target[] = [];
  const get = (set: string, tool: string, p: number) =>
    rows.find((r) => r.set === set && r.tool === tool && r.parallel === p && r.rttMs === 0);
  // Issue 19: on loopback, lftp's wall time and 1.2 × its CPU with 4 connections.
  for (const p of [4, 8]) {
    const f = get("small", "ftpbatch", p);
    const l = get("small", "lftp", p);
    if (!f && !l) continue;
    const failed = f?.failures ? "ftpbatch failed" : "n/a";
    const ratio = f?.medianS && l?.medianS ? f.medianS / l.medianS : undefined;
    out.push({
      name: `small ×${p}: ftpbatch wall / lftp wall`,
      goal: "≤ 1.00",
      value: ratio?.toFixed(2) ?? failed,
      pass: ratio === undefined ? (f?.failures ? false : undefined) : ratio <= 1,
    });
    const cpu = f?.cpuVsLftp;
    out.push({
      name: `small ×${p}: ftpbatch CPU / lftp CPU (user+sys)`,
      goal: "≤ 1.20",
      value: cpu?.toFixed(2) ?? failed,
      pass: cpu === undefined ? (f?.failures ? false : undefined) : cpu <= 1.2,
    });
  }
  // One small file as a user runs it (`deno task upload`), whole process.
  for (const tool of ["ftpbatch-task", "ftpbatch"]) {
    const f = rows.find((r) => r.set === "one" && r.tool === tool && r.rttMs === 0);
    const l = f && get("one", "lftp", f.parallel);
    if (!f || !l) continue;
    const ratio = f.medianS && l.medianS ? f.medianS / l.medianS : undefined;
    out.push({
      name: `one 4 KiB file: ${tool} wall / lftp wall`,
      goal: "≤ 1.50",
      value: ratio?.toFixed(2) ?? (f.failures ? `${tool} failed` : "n/a"),
      pass: ratio === undefined ? (f.failures ? false : undefined) : ratio <= 1.5,
    });
    break;
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

/** The table people read: the rows, then the floors, planning, targets and notes. */
export function renderTable(
  rows: Row[],
  floors: Partial<Floors> | undefined,
  planning: PlanningResult | undefined,
  targets: Target[],
  notes: string[],
): string {
  return [
    ...renderRows(rows),
    ...(floors ? renderFloors(floors) : []),
    ...(planning ? renderPlanning(planning) : []),
    ...(targets.length ? renderTargets(targets) : []),
    ...notes.map((n) => `note: ${n}`),
  ].join("\n");
}

/** One line per row, and what the columns mean. */
function renderRows(rows: Row[]): string[] {
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
    "CPU ×lftp",
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
    r.cpuVsLftp?.toFixed(2) ?? "-",
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
    "tool CPU: user+sys of the tool's process tree (GNU time; raw: this process's own). CPU ×lftp:",
    "tool CPU / lftp's at the same conns. all CPU: busy CPU of the machine during the run",
    `(tool + vsftpd + kernel + anything else running); ${navigator.hardwareConcurrency} CPUs here, so at most ${navigator.hardwareConcurrency} s per wall second.`,
  ];
  return out;
}

function renderFloors(floors: Partial<Floors>): string[] {
  const out: string[] = [];
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
  return out;
}

function renderPlanning(planning: PlanningResult): string[] {
  const out: string[] = [];
  const d = planning.dryRun, f = planning.firstByte;
  out.push(
    "",
    `Planning (${planning.entries} entries, config ${(planning.configBytes / 1e6).toFixed(1)} MB):`,
    `  --dry-run: ${d.wallS.toFixed(2)} s wall (runUpload ${
      d.reportDurationMs ?? "-"
    } ms), peak RSS ${d.peakRssMiB} MiB${d.ok ? "" : ` FAILED: ${d.error}`}`,
    `  real upload ×${f.workers}: first STOR after ${f.toFirstStorS?.toFixed(2) ?? "-"} s (RSS ${
      f.rssAtFirstStorMiB ?? "-"
    } MiB); peak RSS ${f.peakRssMiB} MiB${f.full ? `; total ${f.totalS?.toFixed(1)} s` : ""}${
      f.ok ? "" : ` FAILED: ${f.error}`
    }`,
  );
  return out;
}

/** Over FTPS: client CPU on loopback ≤ 1.5 × lftp's, and ≤ 0.6 × lftp's wall at 20 ms RTT. */
function ftpsTargets(rows: Row[]): Target[] {
  const out: Target[] = [];
  const get = (tool: string, p: number, rtt: number) =>
    rows.find((r) => r.set === "small" && r.tool === tool && r.parallel === p && r.rttMs === rtt);
  for (const p of [4, 8]) {
    const f = get("ftpbatch", p, 0);
    if (f && get("lftp", p, 0)) {
      out.push({
        name: `FTPS small ×${p}: ftpbatch CPU / lftp CPU (user+sys)`,
        goal: "≤ 1.50",
        value: f.cpuVsLftp?.toFixed(2) ?? (f.failures ? "ftpbatch failed" : "n/a"),
        pass: f.cpuVsLftp === undefined ? (f.failures ? false : undefined) : f.cpuVsLftp <= 1.5,
      });
    }
    const fl = get("ftpbatch", p, 20);
    const ll = get("lftp", p, 20);
    if (fl && ll) {
      const ratio = fl.medianS && ll.medianS ? fl.medianS / ll.medianS : undefined;
      out.push({
        name: `FTPS small ×${p} at 20 ms RTT: ftpbatch wall / lftp wall`,
        goal: "≤ 0.60",
        value: ratio?.toFixed(2) ?? (fl.failures ? "ftpbatch failed" : "n/a"),
        pass: ratio === undefined ? (fl.failures ? false : undefined) : ratio <= 0.6,
      });
    }
  }
  return out;
}

function renderTargets(targets: Target[]): string[] {
  const out: string[] = [];
  out.push("", "Targets:");
  for (const t of targets) {
    const verdict = t.pass === undefined ? "n/a " : t.pass ? "PASS" : "FAIL";
    out.push(`  ${verdict}  ${t.name}: ${t.value ?? "-"} (goal ${t.goal})`);
  }
  return out;
}
