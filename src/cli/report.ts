/**
 * `ftpbatch report merge R1.json R2.json … [--output FILE]`: merges the
 * reports of the shards of one config (see `report/merge.ts`) into one,
 * printed or written to FILE, and exits with the worst shard's exit code.
 * A report that cannot be read or does not fit is exit 2, nothing written.
 *
 * @example
 * ```sh
 * deno task report merge reports/shard-*.json --output reports/all.json
 * ```
 *
 * @module
 */

import { resolve } from "node:path";
import { MergeError, mergeReports, type NamedReport } from "../report/merge.ts";
import { EXIT, reportJson, summarize } from "../report/report.ts";
import { type CommandSpec, type Io, parseOrHelp, UsageError } from "./args.ts";
import { REPORT_HELP } from "./help.ts";
import { writeReport } from "./report_file.ts";

const MERGE: CommandSpec = {
  name: "report merge",
  flags: { output: { type: "string" }, quiet: { type: "boolean" } },
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
  const inputs: NamedReport[] = [];
  for (const path of positionals) inputs.push({ name: path, report: await readJson(path) });
  let merged;
  try {
    merged = mergeReports(inputs);
  } catch (e) {
    if (e instanceof MergeError) throw new UsageError(`cannot merge: ${e.message}`);
    throw e;
  }
  if (values.output) {
    const path = resolve(values.output as string);
    const failed = await writeReport(path, merged, []);
    if (failed !== undefined) {
      io.err(`could not write the merged report to ${path}: ${failed}`);
      return EXIT.usage;
    }
    io.err(`report: ${path}`);
  } else {
    io.out([...reportJson(merged)].join("").trimEnd());
  }
  if (!values.quiet || merged.exitCode !== EXIT.ok) {
    const codes = merged.merged!.shards.map((s) => `${s.index}:${s.exitCode}`).join(" ");
    io.err(`${summarize(merged)}\nmerged ${inputs.length} shard reports; exit codes ${codes}`);
  }
  return merged.exitCode;
}

async function readJson(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await Deno.readTextFile(path);
  } catch (e) {
    throw new UsageError(`cannot read the report ${path}: ${(e as Error).message}`);
  }
  try {
    return JSON.parse(text);
  } catch {
    // The parser's message quotes the text; a report holds no secret, but keep errors short.
    throw new UsageError(`${path} is not JSON (a report cut short, or another file?)`);
  }
}
