/** Test helpers around the embedded FTP server. @module */
import { Client } from "basic-ftp";
import {
  type EmbeddedServer,
  type EmbeddedServerOptions,
  startEmbeddedServer,
} from "../../src/server/embedded_server.ts";

/** Run `fn` against a fresh server on a temporary root; always closes and removes both. */
export async function withServer(
  opts: Partial<EmbeddedServerOptions>,
  fn: (server: EmbeddedServer) => Promise<void>,
): Promise<void> {
  const root = await Deno.makeTempDir({ prefix: "ftpbatch-srv-" });
  const server = await startEmbeddedServer({ root, ...opts });
  try {
    await fn(server);
  } finally {
    await server.close();
    await Deno.remove(root, { recursive: true });
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
