/**
 * Latency mode of `deno task bench` (`--latency 20,100`): each run of a tool
 * goes through the latency proxy (`latency_proxy.ts`) at the given round trip
 * time, and its round trips are counted from the byte flow; `0` is loopback
 * as without the flag.
 *
 * What a run records next to its wall time (`RunRecord.latency`):
 * `roundTrips` (connection opens + client turns, see `latency_proxy.ts`),
 * `roundTripsPerFile` (÷ files of the set), and for comparison only
 * `wallRttsPerFile` = wall ÷ RTT × connections ÷ files: what the wall time
 * alone would suggest if every connection only waited for round trips
 * (start-up and CPU included, so it is never the count itself).
 *
 * The targets for the latency rows: at 20 ms RTT, small set, 4 and 8
 * connections, ftpbatch's wall ≤ 0.45 × lftp's (issue 19) and ≤ 0.5 ×
 * rclone's; at 100 ms RTT, small set, 8 connections, ≤ 0.5 × lftp's (issue 12).
 *
 * @module
 */

import { type LatencyStats, roundTrips, startLatencyProxy } from "./latency_proxy.ts";
import type { ServerInfo } from "./tools.ts";

export interface LatencySettings {
  /** Bandwidth cap per connection and direction (Mbit/s); none when undefined. */
  mbitPerS?: number;
  /** Model TCP's handshake (see `latency_proxy.ts`); `--no-handshake` turns it off. */
  handshake: boolean;
}

export interface LatencyFacts {
  rttMs: number;
  mbitPerS?: number;
  handshake: boolean;
  roundTrips: number;
  roundTripsPerFile: number;
  /** wall ÷ RTT × connections ÷ files: what wall time alone suggests (not the count). */
  wallRttsPerFile: number;
  /**
   * Mean lateness of the proxy's releases (ms): on a busy machine its timers fire late, so
   * the RTT the clients saw was about rttMs + 2 × this.
   */
  proxyLateMs: number;
  stats: LatencyStats;
}

/** `--latency 0,20,100` → RTTs in ms; `null` when any is not an integer 0..10000. */
export function parseRtts(value: string | undefined): number[] | null {
  if (value === undefined) return [0];
  const rtts = value.split(",").map((s) => s.trim()).filter((s) => s).map(Number);
  if (rtts.length === 0 || rtts.some((r) => !Number.isInteger(r) || r < 0 || r > 10_000)) {
    return null;
  }
  return [...new Set(rtts)];
}

/**
 * Runs `run` against `server` directly (RTT 0) or through a latency proxy at
 * `rttMs`; the proxy is closed (bytes in flight delivered, so the server's log
 * is complete) before this returns, also when `run` throws.
 */
export async function throughLatency<T extends { wallS: number }>(
  rttMs: number,
  server: ServerInfo,
  settings: LatencySettings,
  shape: { files: number; connections: number },
  run: (server: ServerInfo) => Promise<T>,
): Promise<{ result: T; latency?: LatencyFacts }> {
  if (rttMs === 0) return { result: await run(server) };
  // FTPS: blind, the control port and the passive range relayed as they are.
  const proxy = startLatencyProxy({
    host: server.host,
    port: server.port,
    ...(server.ftps ? { dataPorts: server.ftps.dataPorts } : {}),
  }, {
    oneWayMs: rttMs / 2,
    handshake: settings.handshake,
    ...(settings.mbitPerS ? { mbitPerS: settings.mbitPerS } : {}),
  });
  let result: T;
  try {
    result = await run({ ...server, host: proxy.host, port: proxy.port });
  } finally {
    await proxy.close();
  }
  const rt = roundTrips(proxy.stats);
  return {
    result,
    latency: {
      rttMs,
      ...(settings.mbitPerS ? { mbitPerS: settings.mbitPerS } : {}),
      handshake: settings.handshake,
      roundTrips: rt,
      roundTripsPerFile: rt / shape.files,
      wallRttsPerFile: (result.wallS * 1000 / rttMs) * shape.connections / shape.files,
      proxyLateMs: proxy.stats.released ? proxy.stats.lateMsSum / proxy.stats.released : 0,
      stats: { ...proxy.stats },
    },
  };
}

/** The fields of a bench table row the latency targets read. */
interface RowLike {
  set: string;
  tool: string;
  parallel: number;
  rttMs: number;
  medianS?: number;
  failures: number;
}

interface TargetLike {
  name: string;
  goal: string;
  value?: string;
  pass?: boolean;
}

/** The latency targets (issues 12 and 19), for the RTTs and connections that were run. */
export function latencyTargets(rows: RowLike[]): TargetLike[] {
  const out: TargetLike[] = [];
  const get = (tool: string, p: number, rtt: number) =>
    rows.find((r) => r.set === "small" && r.tool === tool && r.parallel === p && r.rttMs === rtt);
  const goals: [number, number, string, number][] = [
    [20, 4, "lftp", 0.45],
    [20, 4, "rclone", 0.5],
    [20, 8, "lftp", 0.45],
    [20, 8, "rclone", 0.5],
    [100, 8, "lftp", 0.5],
  ];
  for (const [rtt, p, other, goal] of goals) {
    const f = get("ftpbatch", p, rtt);
    const o = get(other, p, rtt);
    if (!f || !o) continue;
    const ratio = f.medianS && o.medianS ? f.medianS / o.medianS : undefined;
    out.push({
      name: `small ×${p} at ${rtt} ms RTT: ftpbatch wall / ${other} wall`,
      goal: `≤ ${goal.toFixed(2)}`,
      value: ratio?.toFixed(2) ?? (f.failures ? "ftpbatch failed" : "n/a"),
      pass: ratio === undefined ? (f.failures ? false : undefined) : ratio <= goal,
    });
  }
  return out;
}
