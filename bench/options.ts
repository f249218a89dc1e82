/**
 * The benchmark's command line: the flags, their defaults, and what is wrong
 * with them (exit 2). A new flag is one line in `FLAGS`, one in `USAGE` and,
 * when it needs a value, one in `BenchOptions`.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { SET_NAMES, type SetName } from "./datasets.ts";
import { parseRtts } from "./latency.ts";
import type { LatencySettings } from "./latency.ts";

export const USAGE =
  `usage: deno task bench [--sets one,small,mixed,large] [--runs N] [--tools LIST]
  [--parallel 4,8] [--planning N] [--planning-full] [--no-floors] [--timeout S] [--keep] [--out DIR]
  [--project DIR]   (benchmark the ftpbatch checkout in DIR, e.g. a branch worktree)
  [--ref REV]       (benchmark commit REV of that checkout, exported to a temp folder)
  [--latency 0,20,100] [--latency-mbit N] [--no-handshake]   (RTTs in ms through a latency proxy)
  [--no-rerun]      (skip the re-run measurement of the small set, see rerun.ts)
  [--ftps]          (explicit FTPS, data protected: vsftpd on 127.0.0.3, ftpbatch and lftp only,
                     latency through the blind relay of latency_proxy.ts; no floors, no re-run)
  --million [...]   (the 1,000,000-file folder source alone: bench/million.ts, --million --help)
tools: ftpbatch, ftpbatch-task (as \`deno task upload\`), ftpbatch-noatomic, ftpbatch-force, lftp, rclone, curl,
  raw, raw-atomic`;

const FLAGS = {
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
  ftps: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** What the command line asks for, defaults applied. */
export interface BenchOptions {
  sets: SetName[];
  runs: number;
  toolNames: string[];
  parallels: number[];
  /** Entries of the planning benchmark; 0 leaves it out. */
  planningEntries: number;
  planningFull: boolean;
  floors: boolean;
  rerun: boolean;
  timeoutMs: number;
  keep: boolean;
  outDir: string;
  /** Another checkout to benchmark (`--project`). */
  project?: string;
  /** A commit of it to benchmark (`--ref`). */
  ref?: string;
  /** Round trip times through the latency proxy, ms; 0 = loopback. */
  rtts: number[];
  latency: LatencySettings;
  /** `--ftps`: the server speaks explicit FTPS (bench.ts), the latency proxy relays blind. */
  ftps: boolean;
  /** The command line as given, for the results file. */
  args: string[];
}

/** The options, or the exit code when there is nothing to run (`--help`: 0, a bad flag: 2). */
export function parseOptions(
  args: string[],
  knownTools: ReadonlySet<string>,
): BenchOptions | number {
  let values;
  try {
    ({ values } = parseArgs({ args, options: FLAGS, strict: true }));
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const mbit = values["latency-mbit"] === undefined ? undefined : Number(values["latency-mbit"]);
  const rtts = parseRtts(values.latency);
  const o: BenchOptions = {
    sets: list(values.sets, [...SET_NAMES]) as SetName[],
    runs: Number(values.runs ?? 3),
    toolNames: list(
      values.tools,
      values.ftps ? ["ftpbatch", "lftp"] : ["ftpbatch", "lftp", "rclone", "curl", "raw"],
    ),
    parallels: list(values.parallel, ["4", "8"]).map(Number),
    planningEntries: Number(values.planning ?? 100_000),
    planningFull: Boolean(values["planning-full"]),
    floors: !values["no-floors"] && !values.ftps,
    rerun: !values["no-rerun"] && !values.ftps,
    timeoutMs: Number(values.timeout ?? 900) * 1000,
    keep: Boolean(values.keep),
    outDir: values.out ?? new URL("./results", import.meta.url).pathname,
    ...(values.project ? { project: resolve(values.project) } : {}),
    ...(values.ref ? { ref: values.ref } : {}),
    rtts: rtts ?? [],
    latency: { handshake: !values["no-handshake"], ...(mbit ? { mbitPerS: mbit } : {}) },
    ftps: Boolean(values.ftps),
    args,
  };
  const bad = [
    ...o.sets.filter((s) => !SET_NAMES.includes(s)).map((s) => `set "${s}"`),
    ...o.toolNames.filter((t) => !knownTools.has(t)).map((t) => `tool "${t}"`),
    ...(o.parallels.some((p) => !Number.isInteger(p) || p < 1 || p > 64) ? ["--parallel"] : []),
    ...(!Number.isInteger(o.runs) || o.runs < 1 ? ["--runs"] : []),
    ...(!Number.isInteger(o.planningEntries) || o.planningEntries < 0 ? ["--planning"] : []),
    ...(!(o.timeoutMs > 0) ? ["--timeout"] : []),
    ...(rtts === null ? ["--latency"] : []),
    ...(mbit !== undefined && !(mbit > 0) ? ["--latency-mbit"] : []),
  ];
  if (bad.length) {
    console.error(`unknown or invalid: ${bad.join(", ")}\n${USAGE}`);
    return 2;
  }
  return o;
}

function list(value: string | undefined, fallback: string[]): string[] {
  return value === undefined ? fallback : value.split(",").map((s) => s.trim()).filter((s) => s);
}
