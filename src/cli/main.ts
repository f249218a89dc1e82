/**
 * Command line: picks the command (`upload`, `serve`, `demo`, `report merge`) and turns
 * usage and config problems into exit code 2. `serve` and `demo` are loaded
 * on demand: `upload` never loads the embedded server.
 *
 * @module
 */

import { ConfigError } from "../config/errors.ts";
import { EXIT } from "../report/report.ts";
import { defaultIo, type Io, UsageError } from "./args.ts";
import { HELP, VERSION } from "./help.ts";
import { uploadCommand } from "./upload.ts";

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
      case "report":
        return await (await import("./report.ts")).reportCommand(rest, io);
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
