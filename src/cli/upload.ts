/**
 * `ftpbatch upload CONFIG`: loads the config, applies the flags, runs the
 * coordinator with signal handling, writes the report and the summary.
 *
 * @module
 */

import { resolve } from "node:path";
import { loadConfig } from "../config/load.ts";
import { resolvePassword } from "../config/password.ts";
import type { Config } from "../config/types.ts";
import { runUpload } from "../run/coordinator.ts";
import { EXIT, type Report, reportJson, summarize } from "../report/report.ts";
import { intFlag, type Io, parse, UsageError } from "./args.ts";

export async function uploadCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, {
    workers: { type: "string" },
    retries: { type: "string" },
    report: { type: "string" },
    "no-atomic": { type: "boolean" },
    "dry-run": { type: "boolean" },
    quiet: { type: "boolean" },
  });
  if (positionals.length !== 1) {
    throw new UsageError("upload takes exactly one CONFIG file; see --help");
  }
  const workers = intFlag("workers", values.workers, 1, 64);
  const retries = intFlag("retries", values.retries, 0, 100);
  const config = await loadConfig(positionals[0]);
  if (workers !== undefined) config.options.workers = workers;
  if (retries !== undefined) config.options.retries = retries;
  if (values.report) config.options.report = resolve(values.report as string);
  if (values["no-atomic"]) config.options.atomic = false;
  return await runAndReport(config, io, {
    dryRun: Boolean(values["dry-run"]),
    quiet: Boolean(values.quiet),
  });
}

/** Runs an upload with signal handling, writes the report, prints the summary. */
export async function runAndReport(
  config: Config,
  io: Io,
  flags: { dryRun?: boolean; quiet?: boolean; printReport?: boolean },
): Promise<number> {
  const password = resolvePassword(config.server, io.env, config.configPath);
  const controller = new AbortController();
  const handlers = (["SIGINT", "SIGTERM"] as const).map((sig) => {
    const handler = () => controller.abort(sig);
    Deno.addSignalListener(sig, handler);
    return () => Deno.removeSignalListener(sig, handler);
  });
  let outcome;
  try {
    outcome = await runUpload({
      config,
      password,
      dryRun: flags.dryRun,
      signal: controller.signal,
      log: flags.quiet ? undefined : (line) => io.err(line),
    });
  } finally {
    handlers.forEach((remove) => remove());
  }
  const { report, exitCode } = outcome;
  if (config.options.report) await writeReport(config.options.report, report, io);
  if (flags.printReport) io.out([...reportJson(report)].join("").trimEnd());
  if (!flags.quiet || exitCode !== EXIT.ok) io.err(summarize(report));
  if (outcome.connectError) {
    io.err(
      `could not connect or log in to ${config.server.host}:${config.server.port}: ${outcome.connectError}`,
    );
  }
  return exitCode;
}

async function writeReport(path: string, report: Report, io: Io): Promise<void> {
  // Write then rename, so a reader never sees half a report.
  const tmp = `${path}.tmp-${Deno.pid}`;
  try {
    const file = await Deno.open(tmp, { write: true, create: true, truncate: true });
    try {
      const encoder = new TextEncoder();
      for (const chunk of reportJson(report)) {
        const bytes = encoder.encode(chunk);
        for (let off = 0; off < bytes.length;) off += await file.write(bytes.subarray(off));
      }
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
    io.err(`report: ${path}`);
  } catch (e) {
    io.err(`could not write the report to ${path}: ${(e as Error).message}`);
  }
}
