/**
 * The machine and the checkout a benchmark runs on: busy CPU and load (others'
 * work on a shared machine shows there), the git state of the project, and
 * `--ref`: a commit exported to a folder of its own, so edits made meanwhile
 * cannot change what is measured.
 *
 * @module
 */

import { project, spawnTimed } from "./tools.ts";

/** Busy CPU seconds of the machine so far, all CPUs (from /proc/stat). */
export function machineBusyS(): number {
  const f = Deno.readTextFileSync("/proc/stat").split("\n")[0].trim().split(/\s+/).slice(1)
    .map(Number);
  // user nice system idle iowait irq softirq steal: busy = all but idle and iowait.
  const busy = f.slice(0, 8).reduce((a, b) => a + b, 0) - f[3] - f[4];
  return busy / 100;
}

export function loadAvg(): number {
  return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
}

export async function gitState(): Promise<string> {
  const cwd = project.dir;
  const head = await spawnTimed("git", ["rev-parse", "--short", "HEAD"], { cwd, timeoutMs: 10_000 })
    .catch(() => null);
  const dirty = await spawnTimed("git", ["status", "--porcelain", "src", "workers", "main.ts"], {
    cwd,
    timeoutMs: 10_000,
  }).catch(() => null);
  if (!head || head.code !== 0) return "unknown";
  return head.stdout.trim() + (dirty?.stdout.trim() ? " (src/workers modified)" : "");
}

/**
 * Exports commit `rev` of the project to `dir` (git archive, plus a copy of
 * the project's node_modules) and points `project` at it; returns the hash.
 */
export async function exportRef(rev: string, dir: string): Promise<string> {
  const git = (args: string[]) =>
    spawnTimed("git", ["-C", project.dir, ...args], { timeoutMs: 60_000 });
  const hash = await git(["rev-parse", "--verify", `${rev}^{commit}`]);
  if (hash.code !== 0) throw new Error(hash.stderr.trim() || "not a commit");
  const commit = hash.stdout.trim();
  await Deno.mkdir(dir, { recursive: true });
  const archive = `${dir}.tar`;
  const out = await git(["archive", "--format=tar", "-o", archive, commit]);
  if (out.code !== 0) throw new Error(`git archive: ${out.stderr.trim()}`);
  const tar = await spawnTimed("tar", ["-xf", archive, "-C", dir], { timeoutMs: 60_000 });
  if (tar.code !== 0) throw new Error(`tar: ${tar.stderr.trim()}`);
  await Deno.remove(archive);
  // npm packages as installed here (deno.lock pins them); a file vanishing mid-copy is fine.
  await spawnTimed("cp", ["-a", `${project.dir}/node_modules`, `${dir}/`], { timeoutMs: 120_000 });
  await Deno.stat(`${dir}/node_modules`);
  project.dir = dir;
  return commit;
}
