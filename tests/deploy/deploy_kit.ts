/**
 * The deploy tests' kit: one test body run against the embedded server and
 * against vsftpd (ignored where vsftpd cannot run), the CLI run as a user
 * runs it (a child process, a config file, the password in the environment),
 * the commands each server received, and a snapshot of a server's whole tree
 * (bytes, times, folders) to prove a run changed nothing.
 *
 * @module
 */

import { join } from "node:path";
import { cli, type CliResult } from "../cli/cli_process.ts";
import { startEmbeddedServer } from "../../src/server/embedded_server.ts";
import type { Faults } from "../../src/server/test_hooks.ts";
import { realServerCase, type ServerKind, startServer } from "../helpers/real_server.ts";

export const PW_ENV = "FTPBATCH_DEPLOY_PW";

/** A running server a deploy test talks to. */
export interface Target {
  kind: "embedded" | ServerKind;
  host: string;
  port: number;
  user: string;
  password: string;
  /** The local folder that is the FTP root. */
  root: string;
  /** Makes what a test wrote straight into `root` the FTP user's (a real server's). */
  own(path: string): Promise<void>;
  /** Every command the server received so far (verb and argument), in order. */
  commands(): Promise<string[]>;
  /** False where the server logs no commands (pure-ftpd logs transfers only): `commands` is []. */
  seesCommands: boolean;
}

/** Runs `fn` against an embedded server (with `faults`) in a folder of its own. */
export async function onEmbedded(fn: (t: Target) => Promise<void>, faults?: Faults): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-deploy-" });
  const server = await startEmbeddedServer({
    root,
    user: "u",
    password: "pw-d3pl0y",
    ...(faults ? { faults } : {}),
  });
  try {
    await fn({
      kind: "embedded",
      host: server.host,
      port: server.port,
      user: "u",
      password: "pw-d3pl0y",
      root,
      own: () => Promise.resolve(),
      commands: () => Promise.resolve([...server.stats.commands]),
      seesCommands: true,
    });
  } finally {
    await server.close();
    await Deno.remove(root, { recursive: true });
  }
}

/** Registers `name` twice: on the embedded server and on vsftpd. */
export function deployTest(
  name: string,
  fn: (t: Target) => Promise<void>,
  kinds: ServerKind[] = ["vsftpd", "pure-ftpd", "proftpd"],
): void {
  Deno.test({
    name: `embedded: ${name}`,
    sanitizeOps: false,
    sanitizeResources: false,
    fn: () => onEmbedded(fn),
  });
  for (const kind of kinds) {
    Deno.test(...realServerCase(`${kind}: ${name}`, { kind }), async () => {
      const server = await startServer({ kind });
      try {
        await fn({
          kind,
          host: server.host,
          port: server.port,
          user: server.user,
          password: server.password,
          root: server.root,
          own: (p) => server.seedOwner(p),
          commands: async () => commandsInLog(await server.log()),
          seesCommands: kind !== "pure-ftpd",
        });
      } finally {
        await server.close();
      }
    });
  }
}

/**
 * The commands in a server's log: vsftpd's `FTP command: Client "…", "STOR /a"` lines,
 * proftpd's ExtendedLog `… "STOR /a" 226 …` lines (the password shown as `PASS (hidden)`).
 */
function commandsInLog(log: string): string[] {
  const out: string[] = [];
  for (const line of log.split("\n")) {
    const m = line.match(/FTP command: Client "[^"]*", "([^"]*)"/) ??
      line.match(/\] "([A-Z]{3,4}(?: [^"]*)?)" \d{3}/);
    if (m) out.push(m[1]);
  }
  return out;
}

/** Writes `files` (path relative to `dir` → content) with their folders. */
export async function writeTree(dir: string, files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    const path = join(dir, rel);
    await Deno.mkdir(join(path, ".."), { recursive: true });
    await Deno.writeTextFile(path, text);
  }
}

/** Every path under `root` (folders end in "/") with its content for files. */
export async function serverTree(root: string, prefix = ""): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const names = [];
  for await (const e of Deno.readDir(join(root, prefix))) names.push(e);
  names.sort((a, b) => a.name < b.name ? -1 : 1);
  for (const e of names) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory) {
      out.set(`${rel}/`, "");
      for (const [k, v] of await serverTree(root, rel)) out.set(k, v);
    } else {
      out.set(rel, await Deno.readTextFile(join(root, rel)));
    }
  }
  return out;
}

/** The tree with each path's modification time too: a byte-and-time snapshot. */
export async function snapshot(root: string): Promise<string[]> {
  const tree = await serverTree(root);
  const out: string[] = [];
  for (const [rel, text] of tree) {
    const st = await Deno.stat(join(root, rel));
    out.push(`${rel} ${st.mtime?.getTime()} ${rel.endsWith("/") ? "" : text}`);
  }
  return out;
}

export interface ReportLike {
  exitCode: number;
  plan?: boolean;
  notes?: string[];
  totals: Record<string, number>;
  files: {
    source: string | null;
    destination: string;
    status: string;
    action?: string;
    reason?: string;
    error?: string;
  }[];
}

export interface DeployRun extends CliResult {
  report: ReportLike;
  /** The NDJSON events (with `--json`); a `file` event's fields are its report record's. */
  events: ({ type: string } & Partial<ReportLike["files"][number]>)[];
}

/** A deploy workspace: a config file in `dir` for `target`, and a way to run the CLI on it. */
export class Deploy {
  constructor(readonly t: Target, readonly dir: string) {}

  static async create(t: Target): Promise<Deploy> {
    return new Deploy(t, await Deno.makeTempDir({ prefix: "ftpbatch-deploy-ws-" }));
  }

  /** `server`: keys added to the config's `server` (e.g. `{ epsv: false }`). */
  async config(
    files: unknown[],
    options: Record<string, unknown> = {},
    server: Record<string, unknown> = {},
  ): Promise<string> {
    const path = join(this.dir, "deploy.json");
    await Deno.writeTextFile(
      path,
      JSON.stringify({
        server: {
          host: this.t.host,
          port: this.t.port,
          user: this.t.user,
          passwordEnv: PW_ENV,
          ...server,
        },
        options: { workers: 2, retries: 1, backoffBaseMs: 50, ...options },
        files,
      }),
    );
    return path;
  }

  async run(...flags: string[]): Promise<DeployRun> {
    const report = join(this.dir, "report.json");
    await Deno.remove(report).catch(() => {});
    const out = await cli(
      ["upload", join(this.dir, "deploy.json"), "--report", report, "--json", ...flags],
      { [PW_ENV]: this.t.password },
    );
    const text = await Deno.readTextFile(report).catch(() => "null");
    const events = out.stdout.split("\n").filter((l) => l.startsWith("{")).map((l) =>
      JSON.parse(l)
    );
    return { ...out, report: JSON.parse(text), events };
  }

  async close(): Promise<void> {
    await Deno.remove(this.dir, { recursive: true });
  }
}

/** Commands that change a server. */
export const WRITE_COMMANDS = /^(STOR|APPE|STOU|DELE|RMD|XRMD|MKD|XMKD|RNFR|RNTO|MFMT|SITE)\b/i;
