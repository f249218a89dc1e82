/**
 * The remote lock (`--remote-lock`, `options.remoteLock`): one deploy at a
 * time across machines (two CI runners), where `--lock` only covers one
 * machine. MKD of the lock folder is atomic on every server: whoever creates
 * it holds the lock, and writes a small owner file into it (host, process,
 * start time, a run id). A run that finds the folder there does not start
 * (exit 4) and names the holder. `--break-remote-lock` removes a lock older
 * than `options.remoteLockTtlMs` (its owner file's start time, else the
 * folder's listed time) and tries again, once.
 *
 * The folder's name starts with `.ftpbatch-`, so mirror deletions never touch it.
 *
 * @module
 */

import { posix } from "node:path";
import { isSuccess } from "../../ftp/codes.ts";
import { parentDirs } from "../../ftp/remote_path.ts";
import { DeployLink, type LinkOptions } from "./deploy_link.ts";

/** The lock folder's default name, in the folder every destination shares. */
export const LOCK_NAME = ".ftpbatch-lock";
const OWNER_FILE = "owner.json";

/** Who holds a lock, as its owner file says. */
export interface LockOwner {
  host: string;
  /** The CI job, where the environment tells (GitHub Actions, GitLab CI). */
  ci?: string;
  pid: number;
  startedAt: string;
  runId: string;
}

/** Another run holds the lock: exit 4, this message names it. */
export class RemoteLockHeld extends Error {}

export interface RemoteLockOptions extends LinkOptions {
  /** The lock folder's remote path. */
  path: string;
  ttlMs: number;
  /** Break a lock older than `ttlMs`. */
  breakStale: boolean;
  log?: (line: string) => void;
}

/** A held lock: `release` removes it (only if it is still this run's). */
export interface HeldRemoteLock {
  path: string;
  owner: LockOwner;
  release(): Promise<void>;
}

/** The lock folder for `remoteLock: true`: in the deepest folder all destinations share. */
export function defaultLockPath(destinations: readonly string[]): string {
  let common: string[] | undefined;
  for (const d of destinations) {
    const parts = posix.dirname(d).split("/").filter(Boolean);
    if (!common) common = parts;
    let k = 0;
    while (k < common.length && k < parts.length && common[k] === parts[k]) k++;
    common = common.slice(0, k);
  }
  return posix.join("/", ...(common ?? []), LOCK_NAME);
}

/** Takes the lock or throws {@linkcode RemoteLockHeld}. */
export async function acquireRemoteLock(o: RemoteLockOptions): Promise<HeldRemoteLock> {
  const link = new DeployLink(o);
  const ci = ciJob();
  const owner: LockOwner = {
    host: hostName(),
    ...(ci ? { ci } : {}),
    pid: Deno.pid,
    startedAt: new Date().toISOString(),
    runId: crypto.randomUUID(),
  };
  try {
    if (!(await tryTake(link, o.path, owner))) {
      const held = await describeHolder(link, o.path);
      if (!o.breakStale || held.ageMs === undefined || held.ageMs < o.ttlMs) {
        throw new RemoteLockHeld(
          `the remote lock ${o.path} is held by ${held.text}; another deploy is running. ` +
            (o.breakStale
              ? `It is younger than options.remoteLockTtlMs (${o.ttlMs} ms): not broken.`
              : `If it is left over from a run that died, --break-remote-lock breaks it ` +
                `once it is older than options.remoteLockTtlMs (${o.ttlMs} ms).`),
        );
      }
      o.log?.(`breaking the stale remote lock ${o.path} (held by ${held.text})`);
      await remove(link, o.path);
      if (!(await tryTake(link, o.path, owner))) {
        throw new RemoteLockHeld(
          `the remote lock ${o.path} was taken by another run while breaking it`,
        );
      }
    }
  } catch (e) {
    await link.close();
    throw e;
  }
  await link.close();
  return {
    path: o.path,
    owner,
    release: async () => {
      const again = new DeployLink(o);
      try {
        const now = await readOwner(again, o.path);
        if (now?.runId === owner.runId) await remove(again, o.path);
      } catch (e) {
        o.log?.(`could not release the remote lock ${o.path}: ${(e as Error).message}`);
      } finally {
        await again.close();
      }
    },
  };
}

/** MKD of the lock folder (its parents first); true when this call created it. */
async function tryTake(link: DeployLink, path: string, owner: LockOwner): Promise<boolean> {
  const created = await link.run(async (s) => {
    const parents = parentDirs(path);
    if (parents.length > 0) await s.mkdirAll(parents);
    return await s.mkdir(path);
  });
  if (!created) return false;
  const local = await Deno.makeTempFile({ prefix: "ftpbatch-lock-" });
  try {
    const bytes = new TextEncoder().encode(JSON.stringify(owner) + "\n");
    await Deno.writeFile(local, bytes);
    await link.run((s) =>
      s.upload({
        localPath: local,
        remotePath: posix.join(path, OWNER_FILE),
        offset: 0,
        method: "restart",
        size: bytes.length,
      })
    );
  } finally {
    await Deno.remove(local).catch(() => {});
  }
  return true;
}

async function readOwner(link: DeployLink, path: string): Promise<LockOwner | undefined> {
  const bytes = await link.run((s) => s.retrieve(posix.join(path, OWNER_FILE), 64 * 1024));
  if (!bytes) return undefined;
  try {
    const o = JSON.parse(new TextDecoder().decode(bytes));
    return typeof o?.runId === "string" ? o as LockOwner : undefined;
  } catch {
    return undefined;
  }
}

/** The holder in words, and the lock's age where it can be told. */
async function describeHolder(
  link: DeployLink,
  path: string,
): Promise<{ text: string; ageMs?: number }> {
  const owner = await readOwner(link, path);
  let since = owner ? Date.parse(owner.startedAt) : NaN;
  if (Number.isNaN(since)) {
    const listing = await link.run((s) => s.list(posix.dirname(path))).catch(() => undefined);
    since = listing?.get(posix.basename(path))?.mtimeMs ?? NaN;
  }
  const ageMs = Number.isNaN(since) ? undefined : Date.now() - since;
  const age = ageMs === undefined ? "" : `, ${Math.round(ageMs / 1000)} s ago`;
  const who = owner
    ? `${owner.host} (pid ${owner.pid}, ${
      owner.ci ? `${owner.ci}, ` : ""
    }run ${owner.runId}) since ${owner.startedAt}${age}`
    : `an unknown run (no readable ${OWNER_FILE}${age})`;
  return { text: who, ...(ageMs !== undefined ? { ageMs } : {}) };
}

/** Removes the lock: its owner file, then the (now empty) folder. */
async function remove(link: DeployLink, path: string): Promise<void> {
  await link.run((s) => s.deleteFile(posix.join(path, OWNER_FILE)));
  const reply = await link.run((s) => s.removeEmptyDir(path));
  if (!isSuccess(reply.code)) {
    throw new Error(`RMD ${path} refused: ${reply.code} ${reply.message}`);
  }
}

/** The machine's name; the upload task may not read it (no --allow-sys=hostname): then the environment's. */
function hostName(): string {
  try {
    return Deno.hostname();
  } catch {
    return Deno.env.get("HOSTNAME") ?? Deno.env.get("RUNNER_NAME") ?? "an unnamed host";
  }
}

/** "GitHub Actions run 123 (owner/repo)", "GitLab CI job 456 (group/project)", or undefined. */
function ciJob(): string | undefined {
  const env = (name: string) => Deno.env.get(name);
  if (env("GITHUB_RUN_ID")) {
    return `GitHub Actions run ${env("GITHUB_RUN_ID")} (${env("GITHUB_REPOSITORY") ?? "?"})`;
  }
  if (env("CI_JOB_ID")) {
    return `GitLab CI job ${env("CI_JOB_ID")} (${env("CI_PROJECT_PATH") ?? "?"})`;
  }
  return undefined;
}
