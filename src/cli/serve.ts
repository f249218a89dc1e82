/**
 * `ftpbatch serve ROOT`: the embedded FTP server on loopback, so the tool can
 * be tried without any FTP server installed.
 *
 * @module
 */

import { resolve } from "node:path";
import { intFlag, type Io, UsageError } from "./args.ts";
import { startEmbeddedServer } from "../server/embedded_server.ts";
import { isLoopback } from "../server/loopback.ts";
import { parseArgs } from "node:util";

export async function serveCommand(args: string[], io: Io): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      options: {
        host: { type: "string" },
        port: { type: "string" },
        user: { type: "string" },
        password: { type: "string" },
      },
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; see --help`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError("serve takes exactly one ROOT folder; see --help");
  }
  const root = resolve(positionals[0]);
  try {
    if (!(await Deno.stat(root)).isDirectory) throw new Error("not a folder");
  } catch (e) {
    throw new UsageError(`serve: ROOT ${root}: ${(e as Error).message}`);
  }
  const host = values.host ?? "127.0.0.1";
  if (!isLoopback(host)) {
    throw new UsageError(
      `serve: --host must be a loopback address (127.x.x.x or ::1), got ${host}`,
    );
  }
  if ((values.user === undefined) !== (values.password === undefined)) {
    throw new UsageError("serve: give --user and --password together");
  }
  const server = await startEmbeddedServer({
    root,
    host,
    port: intFlag("port", values.port ?? "2121", 0, 65535),
    user: values.user,
    password: values.password,
  });
  io.err(
    `serving ${root} at ${server.url} (${
      values.user ? `user ${values.user}` : "anonymous"
    }); Ctrl-C stops`,
  );
  await new Promise<void>((done) => {
    const stop = () => {
      Deno.removeSignalListener("SIGINT", stop);
      Deno.removeSignalListener("SIGTERM", stop);
      done();
    };
    Deno.addSignalListener("SIGINT", stop);
    Deno.addSignalListener("SIGTERM", stop);
  });
  await server.close();
  return 0;
}
