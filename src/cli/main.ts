/**
 * Command line: `upload`, `serve` and `demo`. Parses flags, turns config
 * problems into exit code 2, runs the coordinator, writes the report.
 *
 * @module
 */

import { ConfigError } from "../config/errors.ts";
import { EXIT } from "../report/report.ts";
import { defaultIo, type Io, UsageError } from "./args.ts";
import { uploadCommand } from "./upload.ts";

export type { Io };

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

/** Runs the command line; returns the exit code. */
export async function main(args: string[], io: Io = defaultIo): Promise<number> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "upload":
        return await uploadCommand(rest, io);
      case "serve":
        return await (await import("./serve.ts")).serveCommand(rest, io);
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
