/**
 * The test kit's common parts, for every folder of `tests/` (and `bench/`):
 * the options of a test that runs servers, workers or child processes, and
 * small scene helpers. The servers themselves: `embedded.ts` (in-process),
 * `real_server.ts` (vsftpd, pure-ftpd, proftpd, pyftpdlib), `scripted_server.ts`
 * and `fault_proxy.ts`; the data: `dataset.ts` and `folder_tree.ts`.
 *
 * @module
 */

import { join } from "node:path";
import type { FtpLogin } from "../../src/ftp/login.ts";
import type { UploadJob, UploadSettings } from "../../src/upload/job.ts";
import { Uploader } from "../../src/upload/uploader.ts";

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

/**
 * An uploader as the scripted-server tests use it: atomic, size-verified, short backoffs
 * (`overrides` for what a test changes).
 */
export function testUploader(login: FtpLogin, overrides: Partial<UploadSettings> = {}): Uploader {
  return new Uploader({
    server: login,
    retries: 3,
    atomic: true,
    verify: "size",
    backoffBaseMs: 10,
    backoffMaxMs: 20,
    timeoutMs: 5000,
    ...overrides,
  });
}

/** Writes `size` random bytes to `dir/name`; the job fields a test needs to send it. */
export async function randomSource(
  dir: string,
  name: string,
  size: number,
): Promise<{ source: string; bytes: Uint8Array; mtimeMs: number }> {
  const source = join(dir, name);
  const bytes = crypto.getRandomValues(new Uint8Array(size));
  await Deno.writeFile(source, bytes);
  const { mtime } = await Deno.stat(source);
  return { source, bytes, mtimeMs: mtime!.getTime() };
}

/** `count` random source files in `dir` (`f0.bin`…), sizes by `sizeOf`, as fresh upload jobs. */
export async function randomJobs(
  dir: string,
  count: number,
  sizeOf: (i: number) => number,
): Promise<{ files: Uint8Array[]; jobs: UploadJob[] }> {
  const files: Uint8Array[] = [];
  const jobs: UploadJob[] = [];
  for (let i = 0; i < count; i++) {
    const { source, bytes, mtimeMs } = await randomSource(dir, `f${i}.bin`, sizeOf(i));
    files.push(bytes);
    jobs.push({
      id: i,
      source,
      destination: `/f${i}.bin`,
      size: bytes.length,
      mtimeMs,
      fresh: true,
    });
  }
  return { files, jobs };
}

/**
 * Runs `script` in a child Deno that trusts the test server's CA (`DENO_CERT`: node:tls resumes
 * sessions only with the default trust store), with `args` as its JSON argument; its JSON output.
 */
export async function runTlsChild(
  script: string,
  caDir: string,
  args: unknown[],
): Promise<unknown> {
  const run = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--ext=ts", script, JSON.stringify(args)],
    env: { NO_COLOR: "1", DENO_CERT: join(caDir, "ca.pem") },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (run.code !== 0) {
    throw new Error(`child exited ${run.code}: ${new TextDecoder().decode(run.stderr)}`);
  }
  return JSON.parse(new TextDecoder().decode(run.stdout));
}

/** `size` bytes of a pattern that differs by `seed` and by 512-byte block (no two files alike). */
export function patternBytes(size: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + seed * 7 + (i >> 9)) & 255;
  return bytes;
}

const OPEN_SESSION = new URL("../../src/ftp/open_session.ts", import.meta.url).href;

/**
 * A child script for {@linkcode runTlsChild}: one FTPS session uploads `dir/f<i>` to `/f<i>`
 * for each of `sizes`, back to back, collecting each `SIZE` proof in `sizesAfter`; then prints
 * `report`, a JSON-able expression of `sizesAfter` and `session`. Its argument:
 * `[host, port, user, password, dir, sizes]`.
 */
export function ftpsUploadChild(report: string): string {
  return `
const { openSession } = await import(${JSON.stringify(OPEN_SESSION)});
const [host, port, user, password, dir, sizes] = JSON.parse(Deno.args[0]);
const session = await openSession({ host, port, user, password, secure: true }, 15000);
const sizesAfter = [];
for (const [i, size] of sizes.entries()) {
  const out = await session.upload({
    localPath: dir + "/f" + i, remotePath: "/f" + i, offset: 0, method: "rest", size,
    nextFollows: i < sizes.length - 1,
  });
  sizesAfter.push(out.sizeAfter?.size);
}
console.log(JSON.stringify(${report}));
await session.quit();
`;
}
