/**
 * Command line: `upload`, `serve` and `demo`. Parses flags, turns config
 * problems into exit code 2, runs the coordinator, writes the report.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { ConfigError, loadConfig, resolvePassword } from "./config.ts";
import { runUpload } from "./coordinator.ts";
import { EXIT, type Report, reportJson, summarize } from "./report.ts";
import type { Config } from "./types.ts";

export const VERSION = "0.1.0";

export const HELP =
  `ftpbatch ${VERSION}: upload many files to an FTP server in parallel, as a JSON config says.

Usage:
  ftpbatch upload CONFIG [options]   upload what CONFIG lists
  ftpbatch serve ROOT [options]      run the embedded FTP server on loopback (to try the tool)
  ftpbatch demo [--workers N]        embedded server + fixtures/demo.json, report printed
  ftpbatch --help | --version

upload options (override the config's "options"):
  --workers N     parallel connections (default 4, never more than files)
  --retries N     retries per file after the first attempt (default 5)
  --report FILE   write the JSON report here
  --no-atomic     write straight to the destination (no temporary name + rename)
  --dry-run       check the config and sources, connect to nothing
  --quiet         no progress lines; the summary only when something went wrong

serve options:
  --host H        loopback address to listen on (default 127.0.0.1)
  --port P        default 2121; 0 picks a free port
  --user U --password P   required login (default: anonymous)

Config (JSON):
  { "server": { "host", "port", "user", "password" | "passwordEnv", "secure": false|true|"implicit" },
    "options": { "workers", "retries", "report", "atomic", "verify": "size"|"hash",
                 "backoffBaseMs", "backoffMaxMs", "timeoutMs" },
    "files": [ { "source": "local/path", "destination": "/remote/path or /remote/folder/" } ] }
Relative sources resolve against the config file's folder.

Exit codes:
  0  every file uploaded (or skipped)
  1  at least one file missing or failed
  2  usage or config error, nothing sent
  3  could not connect or log in, nothing sent
  130/143  interrupted by SIGINT/SIGTERM (report still written)
`;

/** Where human-facing lines go; tests capture them. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: (name: string) => string | undefined;
}

const defaultIo: Io = {
  out: (t) => console.log(t),
  err: (t) => console.error(t),
  env: (n) => Deno.env.get(n),
};

/** Runs the command line; returns the exit code. */
export async function main(args: string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "upload":
        return await uploadCommand(rest, io);
      case "serve":
        return await (await import("./serve_command.ts")).serveCommand(rest, io);
      case "demo":
        return await (await import("./demo.ts")).demoCommand(rest, io);
      case "--version":
        io.out(VERSION);
        return EXIT.ok;
      case undefined:
      case "-h":
      case "--help":
      case "help":
        io.out(HELP);
        return command === undefined ? EXIT.usage : EXIT.ok;
      default:
        io.err(`unknown command "${command}"; see --help`);
        return EXIT.usage;
    }
  } catch (e) {
    if (e instanceof UsageError || e instanceof ConfigError) {
      io.err(e.message);
      return EXIT.usage;
    }
    throw e;
  }
}

export class UsageError extends Error {}

type FlagOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

function parse(args: string[], options: FlagOptions) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; see --help`);
  }
}

/** A whole number flag in [min, max]. */
export function intFlag(
  name: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}

async function uploadCommand(args: string[], io: Io): Promise<number> {
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
