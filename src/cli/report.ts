/**
 * `ftpbatch report merge R1.json R2.json … [--output FILE]`: merges the
 * reports of the shards of one config (see `report/merge.ts`) into one,
 * printed or written to FILE, and exits with the worst shard's exit code.
 * The reports are read as streams, so memory does not grow with their size.
 * A report that cannot be read or does not fit is exit 2, nothing written.
 * Paths are relative to the user's folder (`INIT_CWD` under `deno task`).
 *
 * @example
 * ```sh
 * deno task report merge reports/shard-*.json --output reports/all.json
 * ```
 *
 * @module
 */

import { resolve } from "node:path";
import { DEFAULT_MAX_SPREAD_MS } from "../report/merge.ts";
import { MergeError } from "../report/merge_checks.ts";
import { mergeReportFiles } from "../report/merge_files.ts";
import { EXIT } from "../report/report.ts";
import { summarize } from "../report/summary.ts";
import { type ByteStream, ReportWriter } from "../report/report_writer.ts";
import { type CommandSpec, type Io, parseOrHelp, UsageError, userCwd } from "./args.ts";
import { REPORT_HELP } from "./help.ts";
import { checkMergeOutput } from "./report_file.ts";

const MERGE: CommandSpec = {
  name: "report merge",
  flags: {
    output: { type: "string" },
    quiet: { type: "boolean" },
    "max-spread": { type: "string" },
  },
  positionals: { what: "the shard reports to merge" },
  help: REPORT_HELP,
};

export async function reportCommand(args: string[], io: Io): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== "merge") {
    throw new UsageError(
      `report takes a subcommand: report merge R1.json R2.json … [--output FILE]${
        sub === undefined ? "" : `; got "${sub}"`
      }`,
    );
  }
  const parsed = parseOrHelp(MERGE, rest, io);
  if (!parsed) return EXIT.ok;
  const { values, positionals } = parsed;
  const cwd = userCwd(io);
  const inputs = positionals.map((name) => ({ name, path: resolve(cwd, name) }));
  const maxSpreadMs = spreadFlag(values["max-spread"] as string | undefined);
  const output = values.output === undefined ? undefined : resolve(cwd, values.output as string);
  if (output) await checkMergeOutput(output, inputs.map((i) => i.path), "--output");
  const stdout = output ? undefined : stdoutStream(io);
  const writer = new ReportWriter(output ?? stdout!);
  let merged;
  try {
    merged = await mergeReportFiles(inputs, writer, { maxSpreadMs });
  } catch (e) {
    writer.abort();
    if (e instanceof MergeError) throw new UsageError(`cannot merge: ${e.message}`);
    throw e;
  }
  const failed = writer.finish(merged.tail);
  stdout?.end();
  if (failed !== undefined) {
    io.err(`could not write the merged report to ${output ?? "stdout"}: ${failed}`);
    return EXIT.usage;
  }
  if (output) io.err(`report: ${output}`);
  const { summary, tail } = merged;
  if (!values.quiet || tail.exitCode !== EXIT.ok) {
    const codes = summary.merged!.shards.map((s) => `${s.index}:${s.exitCode}`).join(" ");
    io.err(`${summarize(summary)}\nmerged ${inputs.length} shard reports; exit codes ${codes}`);
  }
  return tail.exitCode;
}

/** `--max-spread HOURS`: how far apart the shards may have started (default 12). */
function spreadFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_MAX_SPREAD_MS;
  const hours = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(hours > 0)) {
    throw new UsageError(`--max-spread must be a number of hours above 0, got "${value}"`);
  }
  return hours * 3600_000;
}

/** Standard output as a byte stream; without raw output (tests), gathered and printed at the end. */
function stdoutStream(io: Io): ByteStream & { end(): void } {
  if (io.outRaw) {
    const raw = io.outRaw;
    return { writeSync: (p) => (raw(p), p.length), end: () => {} };
  }
  const parts: string[] = [];
  const decoder = new TextDecoder();
  return {
    writeSync: (p) => (parts.push(decoder.decode(p, { stream: true })), p.length),
    end: () => io.out(parts.join("").trimEnd()),
  };
}
