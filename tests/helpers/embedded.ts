/**
 * Test helpers around the embedded FTP server: a fresh server for a test, a
 * dataset whose config points at it, and a run of that config.
 *
 * @module
 */
import { Client } from "basic-ftp";
import { loadConfig } from "../../src/config/load.ts";
import type { Config } from "../../src/config/types.ts";
import { validateConfig } from "../../src/config/validate.ts";
import { type RunOptions, type RunOutcome, runUpload } from "../../src/run/coordinator.ts";
import {
  type EmbeddedServer,
  type EmbeddedServerOptions,
  startEmbeddedServer,
} from "../../src/server/embedded_server.ts";
import { type Dataset, makeDataset } from "./dataset.ts";

/** Run `fn` against a fresh server on a temporary root; always closes and removes both. */
export async function withServer<T>(
  opts: Partial<EmbeddedServerOptions>,
  fn: (server: EmbeddedServer) => Promise<T>,
): Promise<T> {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-srv-" });
  const server = await startEmbeddedServer({ root, ...opts });
  try {
    return await fn(server);
  } finally {
    await server.close();
    await Deno.remove(root, { recursive: true });
  }
}

/** What a test with a dataset works with: the server (its `root` holds the uploads) and the data. */
export interface Scene {
  server: EmbeddedServer;
  data: Dataset;
}

/** What `makeDataset` takes; `server` adds to (or overrides) the embedded server's login. */
export type DatasetOptions = Omit<Parameters<typeof makeDataset>[0], "server"> & {
  server?: Record<string, unknown>;
};

/**
 * A fresh embedded server (`serverOpts`) and a dataset whose config logs in to it
 * (its `user` and `password` when it has them); everything removed afterwards.
 */
export function withDataset<T>(
  dataset: DatasetOptions,
  serverOpts: Partial<EmbeddedServerOptions>,
  fn: (scene: Scene) => Promise<T>,
): Promise<T> {
  return withServer(serverOpts, async (server) => {
    const login = serverOpts.user === undefined
      ? {}
      : { user: serverOpts.user, password: serverOpts.password };
    const data = await makeDataset({
      ...dataset,
      server: { host: server.host, port: server.port, ...login, ...dataset.server },
    });
    try {
      return await fn({ server, data });
    } finally {
      await Deno.remove(data.dir, { recursive: true });
    }
  });
}

/**
 * A validated config that sends `files` to `server` (its config path is nowhere: the sources
 * must be absolute); `options` on top of a few workers and quick retries.
 */
export function configFor(
  server: EmbeddedServer,
  files: unknown[],
  options: Record<string, unknown> = {},
): Promise<Config> {
  return validateConfig({
    server: { host: server.host, port: server.port },
    options: { workers: 2, retries: 1, backoffBaseMs: 50, ...options },
    files,
  }, "/nowhere/config.json");
}

/** Runs the dataset's config in this process, as `upload` would. */
export async function upload(
  data: Dataset,
  extra: Omit<RunOptions, "config"> = {},
): Promise<RunOutcome> {
  return await runUpload({ config: await loadConfig(data.configPath), ...extra });
}

/** Resolves once the server has received a command starting with `prefix` (e.g. a `STOR`). */
export async function untilCommand(server: EmbeddedServer, prefix: string): Promise<void> {
  while (!server.stats.commands.some((c) => c.startsWith(prefix))) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A logged-in basic-ftp client (anonymous unless user/password are given). */
export async function connect(
  server: EmbeddedServer,
  login: { user?: string; password?: string } = {},
): Promise<Client> {
  const client = new Client(10_000);
  await client.access({ host: server.host, port: server.port, ...login });
  return client;
}

/** A fresh server (`opts`) and a basic-ftp client logged in to it (anonymously); both closed after. */
export function withClient<T>(
  opts: Partial<EmbeddedServerOptions>,
  fn: (client: Client, server: EmbeddedServer) => Promise<T>,
): Promise<T> {
  return withServer(opts, async (server) => {
    const client = await connect(server);
    try {
      return await fn(client, server);
    } finally {
      client.close();
    }
  });
}

/** `n` random bytes (getRandomValues fills at most 64 KiB per call). */
export function randomBytes(n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i += 65536) crypto.getRandomValues(out.subarray(i, i + 65536));
  return out;
}

export async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
