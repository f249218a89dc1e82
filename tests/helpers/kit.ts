/**
 * The test kit's common parts, for every folder of `tests/` (and `bench/`):
 * the options of a test that runs servers, workers or child processes, and
 * small scene helpers. The servers themselves: `embedded.ts` (in-process),
 * `real_server.ts` (vsftpd, pure-ftpd, proftpd, pyftpdlib), `scripted_server.ts`
 * and `fault_proxy.ts`; the data: `dataset.ts` and `folder_tree.ts`.
 *
 * @module
 */

/**
 * Options of a test with servers, Web Workers or child processes: Deno's leak
 * checks off. ftp-srv and node:net keep timers and sockets that close a tick after
 * the test's own `finally` has run, which the checks would report as leaks.
 */
export const integration = { sanitizeOps: false, sanitizeResources: false } as const;

/** A loopback port that was free a moment ago: nothing listens there. */
export function closedPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

/** Runs `fn` with a new temporary folder, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** `Deno.test` with {@linkcode integration}'s options: a test that states only its scenario. */
export function integrationTest(name: string, fn: () => Promise<void>): void {
  Deno.test({ name, ...integration, fn });
}
