/**
 * `deno task bench --million` (or `deno run -A bench/million.ts`): a folder
 * source of 1,000,000 one-byte files in 1,000 folders, generated once and
 * cached (`~/.cache/ftpbatch-bench/million`, a `.complete` marker when
 * whole), and what ftpbatch does with it:
 *
 * - `find -printf '%s %T@ %p\n'` over the tree: the floor (wall time).
 * - `upload --dry-run --report R`: wall time and peak RSS of the whole process
 *   tree (the main thread and the upload workers are threads of one process;
 *   any child process is added), sampled every 100 ms, and the report checked
 *   (parseable, 1,000,000 planned).
 * - A real upload to vsftpd (`tests/helpers/real_server.ts`), 4 workers:
 *   the time to the first uploaded file (`--json` events), RSS every second
 *   (peak, and the slope from 20 s to 60 s), SIGTERM at 60 s: exit 143, the
 *   report complete and parseable, and every file it calls `uploaded`
 *   compared with the server's copy (size and bytes; `--check N` samples N).
 *
 * - With `--merge`: four dry-run shard reports (`--shard k/4`, 250,000 files
 *   each), then `report merge` of them: wall time and peak RSS.
 *
 * Flags: `--tree DIR` · `--files N` (1000000) · `--per-folder N` (1000) ·
 * `--seconds S` (60) · `--workers N` (4) · `--check N` (all) · `--no-upload`
 * · `--no-dry-run` · `--merge` · `--out FILE` (the figures as JSON).
 *
 * @module
 */

import { join } from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { startRealServer } from "../tests/helpers/real_server.ts";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const MAIN = join(ROOT, "main.ts");
/** The upload task's runtime flags (deno.json), so memory is measured as users run it. */
const UPLOAD_FLAGS = [
  "--v8-flags=--max-semi-space-size=2",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys=uid,gid",
];
const MiB = 1024 * 1024;

interface Sample {
  atMs: number;
  rss: number;
}

/** Generates the tree once; a `.complete` marker says a previous run finished it. */
export async function ensureTree(dir: string, files: number, perFolder: number): Promise<void> {
  const marker = join(dir, ".complete");
  const want = `${files} ${perFolder}`;
  if ((await Deno.readTextFile(marker).catch(() => "")).trim() === want) return;
  const t0 = performance.now();
  console.error(`generating ${files} files in ${dir} (once; cached) …`);
  const byte = new Uint8Array([0x61]);
  const tree = join(dir, "tree");
  for (let f = 0; f * perFolder < files; f++) {
    const folder = join(tree, `d${String(f).padStart(4, "0")}`);
    Deno.mkdirSync(folder, { recursive: true });
    for (let i = 0; i < perFolder && f * perFolder + i < files; i++) {
      Deno.writeFileSync(join(folder, `f${String(i).padStart(4, "0")}.txt`), byte);
    }
  }
  await Deno.writeTextFile(marker, want + "\n");
  console.error(`generated in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
}

/** RSS (bytes) of `pid` and every process below it, from /proc. */
export function treeRss(pid: number): number {
  let total = 0;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop()!;
    try {
      const status = Deno.readTextFileSync(`/proc/${p}/status`);
      const m = /VmRSS:\s+(\d+) kB/.exec(status);
      if (m) total += Number(m[1]) * 1024;
      for (const task of Deno.readDirSync(`/proc/${p}/task`)) {
        const kids = Deno.readTextFileSync(`/proc/${p}/task/${task.name}/children`).trim();
        if (kids) stack.push(...kids.split(/\s+/).map(Number));
      }
    } catch { /* gone */ }
  }
  return total;
}

/** Samples the process tree's RSS every `everyMs` until `done` resolves. */
function sampleRss(pid: number, everyMs: number, done: Promise<unknown>): Promise<Sample[]> {
  const t0 = performance.now();
  const samples: Sample[] = [];
  return new Promise((resolve) => {
    const take = () => {
      const rss = treeRss(pid);
      if (rss > 0) samples.push({ atMs: performance.now() - t0, rss });
    };
    take();
    const timer = setInterval(take, everyMs);
    done.finally(() => {
      clearInterval(timer);
      resolve(samples);
    });
  });
}

/** Wall time of `find -printf` over the tree; its CPU time (user+sys) goes to `cpu` if given. */
async function findFloor(tree: string, cpu?: number[]): Promise<number> {
  const t0 = performance.now();
  // The shell's own /proc stat after find ended: fields 16-17 are its waited-for children's CPU.
  const out = await new Deno.Command("sh", {
    args: ["-c", `find '${tree}' -printf '%s %T@ %p\\n' > /dev/null && cat /proc/$$/stat`],
    stdout: "piped",
  }).output();
  if (!out.success) throw new Error("find failed");
  const wall = (performance.now() - t0) / 1000;
  const stat = new TextDecoder().decode(out.stdout);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  cpu?.push((Number(f[13]) + Number(f[14])) / 100);
  return wall;
}

/** CPU seconds (user+sys) so far of each thread of `pid`: the main thread as "main". */
function threadCpu(pid: number, into: Map<string, { name: string; s: number }>): void {
  try {
    for (const t of Deno.readDirSync(`/proc/${pid}/task`)) {
      try {
        const st = Deno.readTextFileSync(`/proc/${pid}/task/${t.name}/stat`);
        const name = t.name === String(pid)
          ? "main"
          : st.slice(st.indexOf("(") + 1, st.lastIndexOf(")"));
        const f = st.slice(st.lastIndexOf(")") + 2).split(" ");
        into.set(t.name, { name, s: (Number(f[11]) + Number(f[12])) / 100 });
      } catch { /* ended */ }
    }
  } catch { /* ended */ }
}

async function writeConfig(dir: string, tree: string, server: Record<string, unknown>) {
  const path = join(dir, "config.json");
  await Deno.writeTextFile(
    path,
    JSON.stringify({ server, files: [{ source: `${tree}/`, destination: "/million/" }] }),
  );
  return path;
}

/** `ftpbatch upload <config> …args` as a child, with the upload task's flags. */
function spawnUpload(
  config: string,
  args: string[],
  stdout: "piped" | "null",
  stderr: "piped" | "null",
): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", ...UPLOAD_FLAGS, MAIN, "upload", config, ...args],
    stdout,
    stderr,
  }).spawn();
}

async function dryRun(tree: string, work: string, files: number) {
  const config = await writeConfig(work, tree, { host: "127.0.0.1", port: 9 });
  const report = join(work, "dry-report.json");
  const t0 = performance.now();
  const child = spawnUpload(config, ["--dry-run", "--quiet", "--report", report], "null", "piped");
  const status = child.output();
  // CPU per thread (last seen): on a loaded machine the main thread's CPU time is what a quiet
  // one would take as wall time; the stat worker and V8's helpers run beside it.
  const threads = new Map<string, { name: string; s: number }>();
  const cpuSampler = setInterval(() => threadCpu(child.pid, threads), 100);
  const samples = await sampleRss(child.pid, 100, status);
  clearInterval(cpuSampler);
  const out = await status;
  const wallS = (performance.now() - t0) / 1000;
  const cpu: Record<string, number> = {};
  for (const { name, s } of threads.values()) {
    cpu[name] = Math.round(((cpu[name] ?? 0) + s) * 100) / 100;
  }
  const parsed = JSON.parse(await Deno.readTextFile(report));
  const ok = out.code === 0 && parsed.totals.planned === files && parsed.files.length === files;
  const size = (await Deno.stat(report)).size;
  await Deno.remove(report);
  return {
    wallS,
    peakRssMiB: Math.max(...samples.map((s) => s.rss)) / MiB,
    cpuByThreadS: cpu,
    exitCode: out.code,
    reportOk: ok,
    reportMB: size / 1e6,
  };
}

/**
 * Four dry-run shard reports of the tree (`--shard k/4`, 250,000 files each),
 * then `report merge` of them: wall time and peak RSS of the merge.
 */
async function mergeShards(tree: string, work: string, files: number) {
  const config = await writeConfig(work, tree, { host: "127.0.0.1", port: 9 });
  const reports: string[] = [];
  for (let k = 0; k < 4; k++) {
    const report = join(work, `shard-${k}.json`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", ...UPLOAD_FLAGS, MAIN, "upload", config, "--dry-run", "--quiet"]
        .concat(["--shard", `${k}/4`, "--report", report]),
      stdout: "null",
      stderr: "null",
    }).output();
    if (out.code !== 0) throw new Error(`shard ${k}/4 dry run: exit ${out.code}`);
    reports.push(report);
  }
  const merged = join(work, "merged.json");
  const t0 = performance.now();
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-read", "--allow-write", "--allow-env=INIT_CWD", MAIN, "report", "merge"]
      .concat([...reports, "--output", merged, "--quiet"]),
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const status = child.output();
  const samples = await sampleRss(child.pid, 100, status);
  const out = await status;
  const wallS = (performance.now() - t0) / 1000;
  const parsed = JSON.parse(await Deno.readTextFile(merged));
  return {
    wallS,
    peakRssMiB: Math.max(...samples.map((s) => s.rss)) / MiB,
    exitCode: out.code,
    shardFiles: await Promise.all(
      reports.map(async (r) => JSON.parse(await Deno.readTextFile(r)).files.length),
    ),
    mergedOk: parsed.totals.planned === files && parsed.files.length === files,
  };
}

async function upload(
  tree: string,
  work: string,
  o: { seconds: number; workers: number; check?: number },
) {
  const server = await startRealServer({ kind: "vsftpd" });
  if (!server) return { skipped: "vsftpd unavailable" };
  try {
    const config = await writeConfig(work, tree, {
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
    });
    const report = join(work, "upload-report.json");
    const t0 = performance.now();
    const child = spawnUpload(
      config,
      ["--json", "--workers", String(o.workers), "--report", report],
      "piped",
      "null",
    );
    let firstFileS: number | undefined;
    const reading = (async () => {
      const decoder = new TextDecoder();
      let rest = "";
      for await (const chunk of child.stdout) {
        if (firstFileS !== undefined) continue; // drain
        rest += decoder.decode(chunk, { stream: true });
        if (/"type":"file"[^\n]*"status":"uploaded"/.test(rest)) {
          firstFileS = (performance.now() - t0) / 1000;
          rest = "";
        }
        rest = rest.slice(rest.lastIndexOf("\n") + 1);
      }
    })();
    const stopped = new Promise<void>((r) => setTimeout(r, o.seconds * 1000));
    const samples = await sampleRss(child.pid, 1000, stopped);
    child.kill("SIGTERM");
    const status = await child.status;
    await reading;
    const parsed = JSON.parse(await Deno.readTextFile(report));
    const uploaded = (parsed.files as { source: string; destination: string; status: string }[])
      .filter((f) => f.status === "uploaded");
    const step = o.check ? Math.max(1, Math.floor(uploaded.length / o.check)) : 1;
    let checked = 0;
    const wrong: string[] = [];
    for (let i = 0; i < uploaded.length; i += step) {
      const f = uploaded[i];
      const [local, remote] = await Promise.all([
        Deno.readFile(f.source),
        Deno.readFile(join(server.root, f.destination)).catch(() => undefined),
      ]);
      checked++;
      if (!remote || remote.length !== local.length || !remote.every((b, k) => b === local[k])) {
        wrong.push(f.destination);
      }
    }
    const at = (s: number) =>
      samples.reduce((best, x) =>
        Math.abs(x.atMs - s * 1000) < Math.abs(best.atMs - s * 1000) ? x : best
      )
        .rss / MiB;
    return {
      firstFileS,
      samplesMiB: samples.map((s) => [Math.round(s.atMs / 100) / 10, Math.round(s.rss / MiB)]),
      peakRssMiB: Math.max(...samples.map((s) => s.rss)) / MiB,
      growth20to60MiB: at(Math.min(60, o.seconds)) - at(Math.min(20, o.seconds)),
      exitCode: status.code,
      reportComplete: parsed.interrupted === "SIGTERM" && typeof parsed.totals === "object",
      uploaded: uploaded.length,
      checked,
      wrong: wrong.length,
      wrongSample: wrong.slice(0, 5),
    };
  } finally {
    await server.close();
  }
}

/** The benchmark; `args` as on the command line (without `--million`). */
export async function million(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      tree: { type: "string" },
      files: { type: "string" },
      "per-folder": { type: "string" },
      seconds: { type: "string" },
      workers: { type: "string" },
      check: { type: "string" },
      "no-upload": { type: "boolean" },
      "no-dry-run": { type: "boolean" },
      merge: { type: "boolean" },
      out: { type: "string" },
    },
    strict: true,
  });
  const files = Number(values.files ?? 1_000_000);
  const perFolder = Number(values["per-folder"] ?? 1000);
  const dir = values.tree ??
    join(
      Deno.env.get("HOME") ?? "/tmp",
      ".cache",
      "ftpbatch-bench",
      files === 1_000_000 ? "million" : `files-${files}`,
    );
  await ensureTree(dir, files, perFolder);
  const tree = join(dir, "tree");
  const work = await Deno.makeTempDir({ prefix: "ftpbatch-million-" });
  const result: Record<string, unknown> = {
    files,
    perFolder,
    load: (await Deno.readTextFile("/proc/loadavg")).trim(),
    cpus: navigator.hardwareConcurrency,
  };
  try {
    // Once to warm the page cache (the dry run reads a warm tree too), then once on each side
    // of the dry run: the machine may be shared, so the load can change while it runs.
    await findFloor(tree);
    const findCpu: number[] = [];
    const finds = [await findFloor(tree, findCpu)];
    result.findS = finds[0];
    console.error(`find -printf: ${finds[0].toFixed(2)} s`);
    if (!values["no-dry-run"]) {
      const d = await dryRun(tree, work, files);
      finds.push(await findFloor(tree, findCpu));
      result.findsS = finds;
      result.findCpuS = findCpu;
      result.findS = (finds[0] + finds[1]) / 2;
      const findCpuS = (findCpu[0] + findCpu[1]) / 2;
      result.dryRun = {
        ...d,
        ratioToFind: d.wallS / (result.findS as number),
        // Load-independent: the dry run's main thread against find (both CPU time).
        mainCpuRatioToFind: (d.cpuByThreadS.main ?? NaN) / findCpuS,
      };
      console.error(
        `dry run: ${d.wallS.toFixed(2)} s (${
          (d.wallS / (result.findS as number)).toFixed(2)
        }× find), ` +
          `peak RSS ${d.peakRssMiB.toFixed(0)} MiB, exit ${d.exitCode}, report ${
            d.reportMB.toFixed(0)
          } MB ${d.reportOk ? "ok" : "WRONG"}; CPU: main thread ${d.cpuByThreadS.main}s, ` +
          `find ${findCpuS.toFixed(2)}s (${(d.cpuByThreadS.main / findCpuS).toFixed(2)}×)`,
      );
    }
    if (values.merge) {
      const m = await mergeShards(tree, work, files);
      result.merge = m;
      console.error(`merge of 4 shard reports: ${JSON.stringify(m)}`);
    }
    if (!values["no-upload"]) {
      const u = await upload(tree, work, {
        seconds: Number(values.seconds ?? 60),
        workers: Number(values.workers ?? 4),
        check: values.check ? Number(values.check) : undefined,
      });
      result.upload = u;
      console.error(`upload: ${JSON.stringify(u)}`);
    }
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
  const text = JSON.stringify(result, null, 2);
  if (values.out) await Deno.writeTextFile(values.out, text + "\n");
  console.log(text);
  return 0;
}

if (import.meta.main) Deno.exit(await million(Deno.args));
