/**
 * The bench's target lines (`bench/summary.ts`): over FTPS the FTPS goals of issue 19, not the
 * plain-FTP ones (a 0.60 ratio at 20 ms RTT passes over FTPS and fails over plain FTP).
 */
import assert from "node:assert/strict";
import { checkTargets, type Row } from "../../bench/summary.ts";

function row(tool: string, rttMs: number, medianS: number, cpuVsLftp?: number): Row {
  return { set: "small", tool, parallel: 4, rttMs, runs: 1, failures: 0, medianS, cpuVsLftp };
}

const rows = [
  row("ftpbatch", 0, 6.8, 0.57),
  row("lftp", 0, 13, 1),
  row("ftpbatch", 20, 48.6),
  row("lftp", 20, 81),
];

Deno.test("bench targets over FTPS: CPU ≤ 1.5 × lftp on loopback, ≤ 0.6 × lftp's wall at 20 ms", () => {
  const targets = checkTargets(rows, undefined, true);
  assert.deepEqual(targets.map((t) => [t.goal, t.value, t.pass]), [
    ["≤ 1.50", "0.57", true],
    ["≤ 0.60", "0.60", true],
  ]);
  assert.ok(targets.every((t) => t.name.startsWith("FTPS")));
});

Deno.test("bench targets over plain FTP: the same rows are held to ≤ 1.0 wall and ≤ 0.45 at 20 ms", () => {
  const targets = checkTargets(rows);
  const latency = targets.find((t) => /20 ms RTT/.test(t.name))!;
  assert.deepEqual([latency.goal, latency.pass], ["≤ 0.45", false]);
  const wall = targets.find((t) => t.name === "small ×4: ftpbatch wall / lftp wall")!;
  assert.deepEqual([wall.value, wall.pass], ["0.52", true]);
});
