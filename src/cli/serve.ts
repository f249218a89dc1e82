/**
 * `ftpbatch serve ROOT`: the embedded FTP server on loopback, so the tool can
 * be tried without any FTP server installed. ROOT is relative to the user's
 * folder (see `userCwd`).
 *
 * @module
 */

import { resolve } from "node:path";
import type { CommandSpec, Io } from "./args.ts";
import { flags, intFlag, type Parsed, parseOrHelp, UsageError, userCwd } from "./args.ts";
import { SERVE_HELP } from "./help.ts";
import { EXIT } from "../report/report.ts";
import { type EmbeddedServerOptions, startEmbeddedServer } from "../server/embedded_server.ts";
import { isLoopback } from "../server/loopback.ts";

const SERVE: CommandSpec = {
  name: "serve",
  flags: flags(["host", "port", "user", "password"]),
  positionals: { count: 1, what: "ROOT folder" },
  help: SERVE_HELP,
};

export async function serveCommand(args: string[], io: Io): Promise<number> {
  const parsed = parseOrHelp(SERVE, args, io);
  if (!parsed) return EXIT.ok;
  const options = await serveOptions(parsed, io);
  const server = await startEmbeddedServer(options);
  const who = options.user ? `user ${options.user}` : "anonymous";
  io.err(`serving ${options.root} at ${server.url} (${who}); Ctrl-C stops`);
  await untilStopped();
  await server.close();
  return EXIT.ok;
}

/** The server asked for: ROOT an existing folder, a loopback host, user and password together. */
async function serveOptions(
  { values, positionals }: Extract<Parsed, { help: false }>,
  io: Io,
): Promise<EmbeddedServerOptions> {
  const root = resolve(userCwd(io), positionals[0]);
  try {
    if (!(await Deno.stat(root)).isDirectory) throw new Error("not a folder");
  } catch (e) {
    throw new UsageError(`serve: ROOT ${root}: ${(e as Error).message}`);
  }
  const host = (values.host as string | undefined) ?? "127.0.0.1";
  if (!isLoopback(host)) {
    throw new UsageError(
      `serve: --host must be a loopback address (127.x.x.x or ::1), got ${host}`,
    );
  }
  if ((values.user === undefined) !== (values.password === undefined)) {
    throw new UsageError("serve: give --user and --password together");
  }
  return {
    root,
    host,
    port: intFlag("port", values.port ?? "2121", 0, 65535),
    user: values.user as string | undefined,
    password: values.password as string | undefined,
  };
}

/** Resolves on SIGINT or SIGTERM. */
function untilStopped(): Promise<void> {
  return new Promise<void>((done) => {
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      done();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
}
