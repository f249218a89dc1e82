/**
 * `ftpbatch demo`: the main job end to end with nothing installed: an
 * embedded FTP server on a free loopback port, the fixtures uploaded by
 * `fixtures/demo.json`, the report printed; then the same config again, which
 * finds every file unchanged (same size and time) and sends nothing.
 *
 * @module
 */

import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type CommandSpec, intFlag, type Io, parseOrHelp } from "./args.ts";
import { DEMO_HELP } from "./help.ts";
import { runAndReport } from "./run_and_report.ts";
import { loadConfig } from "../config/load.ts";
import { EXIT } from "../report/report.ts";
import { startEmbeddedServer } from "../server/embedded_server.ts";

const DEMO_CONFIG = new URL("../../fixtures/demo.json", import.meta.url);

const DEMO: CommandSpec = {
  name: "demo",
  flags: { workers: { type: "string" } },
  help: DEMO_HELP,
};

export async function demoCommand(args: string[], io: Io): Promise<number> {
  const parsed = parseOrHelp(DEMO, args, io);
  if (!parsed) return EXIT.ok;
  const config = await loadConfig(fileURLToPath(DEMO_CONFIG));
  const workers = intFlag("workers", parsed.values.workers, 1, 64);
  if (workers !== undefined) config.options.workers = workers;
  const work = await Deno.makeTempDir({ prefix: "ftpbatch-demo-" });
  const root = join(work, "ftp-root");
  await Deno.mkdir(root);
  const server = await startEmbeddedServer({ root, port: 0, user: "demo", password: "demo" });
  try {
    config.server = {
      host: server.host,
      port: server.port,
      user: "demo",
      password: "demo",
      secure: false,
      encoding: "utf8",
    };
    config.options.report = join(work, "report.json");
    io.err(`embedded FTP server at ${server.url}, root ${root}`);
    const code = await runAndReport(config, io, { printReport: true });
    io.err(`uploaded files are in ${root}`);
    if (code !== EXIT.ok) return code;
    // The nightly case: the same config again finds every file unchanged and sends nothing.
    io.err("the same config again, as a scheduled run would do it:");
    config.options.report = join(work, "report-again.json");
    return await runAndReport(config, io, {});
  } finally {
    await server.close();
  }
}
