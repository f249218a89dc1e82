/** Runs `main.ts` in a child process as a user would, for the CLI tests. @module */
import { fileURLToPath } from "node:url";
import type { EmbeddedServer, EmbeddedServerOptions } from "../../src/server/embedded_server.ts";
import {
  type DatasetOptions,
  type Scene,
  withDataset,
  withServer as withEmbeddedServer,
} from "../helpers/embedded.ts";
import { integration } from "../helpers/kit.ts";
import { partialSize, settledPartialSize, waitFor } from "../helpers/partial.ts";

export const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
export const DENO_JSON = fileURLToPath(new URL("../../deno.json", import.meta.url));
export { integration };

/** The login of the CLI tests' embedded server. */
export const LOGIN = { user: "u", password: "pw-53cr3t" };

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

async function output(cmd: Deno.Command): Promise<CliResult> {
  return await ended(cmd.spawn());
}

/** `main.ts ARGS` as a command with the upload task's permissions, output piped. */
function command(args: string[], env: Record<string, string> = {}, cwd?: string): Deno.Command {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-net", "--allow-env", "--allow-sys"]
      .concat([MAIN, ...args]),
    env: { NO_COLOR: "1", ...env },
    cwd,
    stdout: "piped",
    stderr: "piped",
  });
}

/** Runs `main.ts` with the upload task's permissions, capturing everything. */
export function cli(
  args: string[],
  env: Record<string, string> = {},
  cwd?: string,
): Promise<CliResult> {
  return output(command(args, env, cwd));
}

/** Starts `main.ts ARGS` without waiting (to signal it, or to run another beside it). */
export function spawnCli(args: string[], env: Record<string, string> = {}): Deno.ChildProcess {
  return command(args, env).spawn();
}

/** What a spawned CLI ended with. */
export async function ended(child: Deno.ChildProcess): Promise<CliResult> {
  const out = await child.output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

/**
 * `upload CONFIG` stopped by SIGTERM once a temporary file under the server's `root` holds
 * `min` bytes: asserts exit 143 and returns what the run printed and the partial file's
 * size once the server has drained its buffers.
 */
export async function sigtermMidFile(
  root: string,
  configPath: string,
  { min, env = {} }: { min: number; env?: Record<string, string> },
): Promise<CliResult & { left: number }> {
  const child = spawnCli(["upload", configPath], env);
  await waitFor("a partial upload", () => partialSize(root, min));
  child.kill("SIGTERM");
  const result = await ended(child);
  if (result.code !== 143) throw new Error(`exit ${result.code}, not 143: ${result.stderr}`);
  const left = await settledPartialSize(root);
  if (left === undefined) throw new Error("no temporary file left for resume");
  return { ...result, left };
}

/** The `--allow-*` flags of a task of deno.json (`upload`, `report`, `compile`…). */
export async function taskPermissions(name: string): Promise<string[]> {
  const tasks = JSON.parse(await Deno.readTextFile(DENO_JSON)).tasks as Record<string, string>;
  return tasks[name].split(" ").filter((w) => w.startsWith("--allow-"));
}

/**
 * The variables a child Deno needs, and nothing else: shard variables (or any other
 * setting) of the machine running the tests must not leak in.
 */
export function cleanEnv(env: Record<string, string> = {}): Record<string, string> {
  const keep = ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME", "TMPDIR"];
  const out: Record<string, string> = { NO_COLOR: "1" };
  for (const name of keep) {
    const value = Deno.env.get(name);
    if (value !== undefined) out[name] = value;
  }
  return { ...out, ...env };
}

/** Runs `main.ts ARGS` with exactly `perms`, in a clean environment plus `env`. */
export function cleanCli(
  perms: string[],
  args: string[],
  env: Record<string, string> = {},
): Promise<CliResult> {
  return output(
    new Deno.Command(Deno.execPath(), {
      args: ["run", ...perms, MAIN, ...args],
      env: cleanEnv(env),
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }),
  );
}

/**
 * `deno task <args>` of this project, started from `cwd` (as a user in another
 * folder would). A fresh environment: under `deno task test` an inherited
 * `INIT_CWD` (the outer task's) would be kept by the inner `deno task`.
 */
export function task(args: string[], cwd: string): Promise<CliResult> {
  return output(
    new Deno.Command(Deno.execPath(), {
      args: ["task", "--config", DENO_JSON, ...args],
      clearEnv: true,
      env: cleanEnv(),
      cwd,
      stdout: "piped",
      stderr: "piped",
    }),
  );
}

/** A fresh embedded server on a temporary root (login u / pw-53cr3t by default). */
export function withServer(
  fn: (s: EmbeddedServer, root: string) => Promise<void>,
  opts: Partial<EmbeddedServerOptions> = LOGIN,
): Promise<void> {
  return withEmbeddedServer(opts, (server) => fn(server, server.root));
}

/**
 * The usual CLI test: a fresh embedded server (`server`, by default logging in
 * {@linkcode LOGIN}) and a dataset whose config logs in to it; `fn` runs the command line.
 */
export function cliTest(
  name: string,
  dataset: DatasetOptions,
  fn: (scene: Scene) => Promise<void>,
  { server = LOGIN, ignore = false }: {
    server?: Partial<EmbeddedServerOptions>;
    ignore?: boolean;
  } = {},
): void {
  Deno.test({ name, ignore, ...integration, fn: () => withDataset(dataset, server, fn) });
}
