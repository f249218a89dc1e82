/**
 * The upload tools the benchmark compares, each run as a user would run it:
 * ftpbatch (as a `deno run main.ts upload` subprocess), lftp `mirror -R`,
 * rclone `copy`, curl (one process, sequential, connection reused), and
 * `raw`: the floor, an in-process minimal client (PASV + STOR per file on N
 * persistent connections, folders made first, nothing verified), and
 * `raw-atomic`: the same client sending ftpbatch's per-file command sequence
 * (what ftpbatch's protocol design costs, without its implementation).
 *
 * @module
 */

import type { DataSet } from "./datasets.ts";
import { RawFtp } from "../tests/helpers/raw_ftp.ts";

export interface ServerInfo {
  host: string;
  port: number;
  user: string;
  password: string;
  /**
   * `--ftps`: explicit FTPS with data protected, the server's throwaway CA in `caFile`, and
   * its passive range for the blind latency proxy (`latency_proxy.ts`).
   */
  ftps?: { caFile: string; dataPorts: [number, number] };
}

/** Everything one run needs. */
export interface RunContext {
  server: ServerInfo;
  set: DataSet;
  parallel: number;
  /** Scratch folder for this run's configs and reports (kept small). */
  scratch: string;
  timeoutMs: number;
  /** Set by the benchmark's signal handler: kill the child now. */
  signal: AbortSignal;
}

export interface ToolRun {
  /** The tool said it succeeded (exit code 0, and for ftpbatch its report agrees). */
  ok: boolean;
  wallS: number;
  exitCode: number;
  /** Why the tool itself counts the run as failed (exit code, report, timeout). */
  error?: string;
  /** Tool-specific facts (ftpbatch: report durations, per-worker busy time). */
  extra?: Record<string, unknown>;
  /** CPU time and peak RSS of the tool's process(es). */
  usage?: Usage;
}

export interface Tool {
  name: string;
  /** Runs with one connection whatever `--parallel` says. */
  sequential: boolean;
  /** `null` when usable, else a note saying why not and how to get it. */
  check(): Promise<string | null>;
  run(ctx: RunContext): Promise<ToolRun>;
}

/**
 * The ftpbatch checkout that is benchmarked: this one, or another (a branch
 * worktree) given with `--project DIR`.
 */
export const project = {
  dir: new URL("..", import.meta.url).pathname.replace(/\/$/, ""),
  get main(): string {
    return `${this.dir}/main.ts`;
  },
};
/** Environment for every tool: UTF-8 locale, so no tool converts names. */
const BASE_ENV = { LC_ALL: "C.UTF-8", LANG: "C.UTF-8", NO_COLOR: "1" };
export const PASSWORD_ENV = "FTPBATCH_BENCH_PASSWORD";

export function findExecutable(name: string): string | null {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    if (!dir) continue;
    try {
      const st = Deno.statSync(`${dir}/${name}`);
      if (st.isFile && ((st.mode ?? 0o755) & 0o111) !== 0) return `${dir}/${name}`;
    } catch {
      // not here
    }
  }
  return null;
}

/** Output of a finished child process, with its wall time. */
export interface Spawned {
  code: number;
  signal: string | null;
  wallS: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** From GNU time when `measure` was asked and `/usr/bin/time` exists. */
  usage?: Usage;
}

/** CPU seconds (user + system) and peak RSS of a process and its waited-for children. */
export interface Usage {
  cpuS: number;
  userS: number;
  sysS: number;
  maxRssMiB: number;
}

const TIME_BIN = (() => {
  try {
    return Deno.statSync("/usr/bin/time").isFile ? "/usr/bin/time" : null;
  } catch {
    return null;
  }
})();

/**
 * Runs a command with a timeout; wall time from spawn to exit. With
 * `measure`, the command runs under GNU time for its CPU time and peak RSS
 * (its exit code is passed through).
 */
export async function spawnTimed(
  cmd: string,
  args: string[],
  opts: {
    env?: Record<string, string>;
    cwd?: string;
    timeoutMs: number;
    signal?: AbortSignal;
    measure?: boolean;
  },
): Promise<Spawned> {
  let usageFile: string | undefined;
  if (opts.measure && TIME_BIN) {
    usageFile = await Deno.makeTempFile({ prefix: "ftpbatch-bench-usage-" });
    args = ["-f", "%U %S %M", "-o", usageFile, cmd, ...args];
    cmd = TIME_BIN;
  }
  const t0 = performance.now();
  const child = new Deno.Command(cmd, {
    args,
    env: { ...BASE_ENV, ...opts.env },
    cwd: opts.cwd,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const kill = () => {
    try {
      child.kill("SIGKILL");
    } catch {
      // exited already
    }
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, opts.timeoutMs);
  opts.signal?.addEventListener("abort", kill);
  try {
    const out = await child.output();
    const wallS = (performance.now() - t0) / 1000;
    const dec = new TextDecoder();
    let usage: Usage | undefined;
    if (usageFile) {
      // GNU time writes "Command exited with non-zero status N" first when it did.
      const last = (await Deno.readTextFile(usageFile)).trim().split("\n").pop() ?? "";
      const m = last.match(/^([\d.]+) ([\d.]+) (\d+)$/);
      if (m) {
        const userS = Number(m[1]), sysS = Number(m[2]);
        usage = { cpuS: userS + sysS, userS, sysS, maxRssMiB: Math.round(Number(m[3]) / 1024) };
      }
    }
    return {
      code: out.code,
      signal: out.signal,
      wallS,
      stdout: dec.decode(out.stdout),
      stderr: dec.decode(out.stderr),
      timedOut,
      ...(usage ? { usage } : {}),
    };
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener("abort", kill);
    if (usageFile) await Deno.remove(usageFile).catch(() => {});
  }
}

function tail(text: string, lines = 6): string {
  // deno's uncaught-error output: the message is at the top, the stack below.
  // deno-lint-ignore no-control-regex
  const all = text.replace(/\x1b\[[0-9;]*m/g, "").trim().split("\n");
  const err = all.findIndex((l) => /^error: /.test(l));
  const pick = err >= 0 ? all.slice(err, err + lines) : all.slice(-lines);
  return pick.map((l) => l.trim()).join(" | ").slice(0, 800);
}

function failure(out: Spawned, what: string): string | undefined {
  if (out.timedOut) return `${what}: timed out (killed)`;
  if (out.code !== 0) {
    return `${what} exited ${out.code}${out.signal ? ` (${out.signal})` : ""}: ${
      tail(out.stderr || out.stdout)
    }`;
  }
  return undefined;
}

// ------------------------------------------------------------------ ftpbatch

/** The ftpbatch config for a set: every file to `/` + its relative path. */
export function ftpbatchConfig(set: DataSet, server: ServerInfo): string {
  return JSON.stringify({
    server: {
      host: server.host,
      port: server.port,
      user: server.user,
      passwordEnv: PASSWORD_ENV,
      ...(server.ftps ? { secure: true } : {}),
    },
    options: {},
    files: set.files.map((f) => ({ source: `${set.dir}/${f.rel}`, destination: `/${f.rel}` })),
  });
}

interface ReportLike {
  durationMs: number;
  workers: number;
  totals: { files: number; uploaded: number; failed: number; missing: number; bytes: number };
  files: { worker: number; durationMs: number; attempts: number }[];
}

/** As deno.json's `upload` task runs it (plus full --allow-sys for /proc readings). */
export const DENO_RUN_FLAGS = [
  "run",
  "--v8-flags=--max-semi-space-size=2",
  "--allow-read",
  "--allow-write",
  "--allow-net",
  "--allow-env",
  "--allow-sys",
];

/**
 * ftpbatch as `deno run` with the upload task's flags, or (`viaTask`) as a user runs it,
 * `deno task upload`: one more Deno process that reads deno.json and starts the first.
 */
function ftpbatchTool(name: string, extraArgs: string[], viaTask = false): Tool {
  return {
    name,
    sequential: false,
    check: () => Promise.resolve(null),
    async run(ctx) {
      const config = `${ctx.scratch}/${ctx.set.name}.ftpbatch.json`;
      const report = `${ctx.scratch}/${ctx.set.name}.${name}.report.json`;
      await Deno.writeTextFile(config, ftpbatchConfig(ctx.set, ctx.server));
      await Deno.remove(report).catch(() => {});
      const out = await spawnTimed(
        Deno.execPath(),
        [
          ...(viaTask
            ? ["task", "--quiet", "upload"]
            : [...DENO_RUN_FLAGS, project.main, "upload"]),
          config,
          "--workers",
          String(ctx.parallel),
          "--quiet",
          "--report",
          report,
          ...extraArgs,
        ],
        {
          env: {
            [PASSWORD_ENV]: ctx.server.password,
            ...(ctx.server.ftps ? { DENO_CERT: ctx.server.ftps.caFile } : {}),
          },
          cwd: project.dir,
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
          measure: true,
        },
      );
      let error = failure(out, name);
      let extra: Record<string, unknown> | undefined;
      try {
        const r = JSON.parse(await Deno.readTextFile(report)) as ReportLike;
        const busy = new Map<number, number>();
        let attempts = 0;
        for (const f of r.files) {
          busy.set(f.worker, (busy.get(f.worker) ?? 0) + f.durationMs);
          attempts += f.attempts;
        }
        const busyMs = [...busy.values()];
        extra = {
          reportDurationMs: r.durationMs,
          workers: r.workers,
          totals: r.totals,
          /** Sum of per-file durations per worker: time spent inside upload(). */
          busyMsMax: Math.max(...busyMs),
          busyMsMin: Math.min(...busyMs),
          meanFileMs: r.files.reduce((n, f) => n + f.durationMs, 0) / r.files.length,
          attempts,
        };
        const t = r.totals;
        if (!error && (t.uploaded !== ctx.set.files.length || t.failed > 0 || t.missing > 0)) {
          error = `report totals: ${t.uploaded} uploaded, ${t.failed} failed, ${t.missing} missing`;
        }
      } catch (e) {
        error ??= `no readable report: ${(e as Error).message}`;
      }
      return { ok: !error, wallS: out.wallS, exitCode: out.code, error, extra, usage: out.usage };
    },
  };
}

// ---------------------------------------------------------------------- lftp

function lftpTool(): Tool {
  const bin = findExecutable("lftp");
  return {
    name: "lftp",
    sequential: false,
    check: () =>
      Promise.resolve(bin ? null : "lftp not installed (Debian: apt-get install -y lftp)"),
    async run(ctx) {
      const script = [
        "set cmd:fail-exit yes",
        ...(ctx.server.ftps
          ? [
            "set ftp:ssl-force true",
            "set ftp:ssl-protect-data true",
            "set ssl:verify-certificate no",
            // The blind latency proxy relays the EPSV port on the control connection's address.
            "set ftp:prefer-epsv true",
          ]
          : ["set ftp:ssl-allow no"]),
        // Bounded retries, so a broken run fails instead of waiting minutes.
        "set net:max-retries 2",
        "set net:reconnect-interval-base 1",
        "set net:timeout 30",
        `mirror -R --parallel=${ctx.parallel} "${ctx.set.dir}" /`,
        "quit",
      ].join("; ");
      const out = await spawnTimed(
        bin!,
        [
          "-e",
          script,
          "-u",
          `${ctx.server.user},${ctx.server.password}`,
          "-p",
          String(ctx.server.port),
          ctx.server.host,
        ],
        { timeoutMs: ctx.timeoutMs, signal: ctx.signal, env: { HOME: ctx.scratch }, measure: true },
      );
      const error = failure(out, "lftp");
      return { ok: !error, wallS: out.wallS, exitCode: out.code, error, usage: out.usage };
    },
  };
}

// -------------------------------------------------------------------- rclone

function rcloneTool(): Tool {
  const bin = findExecutable("rclone");
  let obscured: string | undefined;
  return {
    name: "rclone",
    sequential: false,
    check: () =>
      Promise.resolve(bin ? null : "rclone not installed (Debian: apt-get install -y rclone)"),
    async run(ctx) {
      const conf = `${ctx.scratch}/rclone.conf`;
      await Deno.writeTextFile(conf, "");
      if (obscured === undefined) {
        const o = await spawnTimed(bin!, ["obscure", ctx.server.password], {
          timeoutMs: 30_000,
          env: { RCLONE_CONFIG: conf },
        });
        if (o.code !== 0) throw new Error(`rclone obscure failed: ${o.stderr}`);
        obscured = o.stdout.trim();
      }
      const n = ctx.parallel;
      const out = await spawnTimed(
        bin!,
        [
          "copy",
          ctx.set.dir,
          ":ftp:/",
          "--ftp-host",
          ctx.server.host,
          "--ftp-port",
          String(ctx.server.port),
          "--ftp-user",
          ctx.server.user,
          "--ftp-pass",
          obscured,
          "--transfers",
          String(n),
          "--checkers",
          String(n),
          // rclone's docs: concurrency >= transfers + checkers + 1, or it can deadlock.
          "--ftp-concurrency",
          String(2 * n + 1),
          "--stats",
          "0",
        ],
        {
          timeoutMs: ctx.timeoutMs,
          signal: ctx.signal,
          env: { RCLONE_CONFIG: conf, HOME: ctx.scratch },
          measure: true,
        },
      );
      const error = failure(out, "rclone");
      return { ok: !error, wallS: out.wallS, exitCode: out.code, error, usage: out.usage };
    },
  };
}

// ---------------------------------------------------------------------- curl

/** A curl `-K` config: one `upload-file`/`url` pair per file, in order. */
export function curlConfig(set: DataSet, server: ServerInfo): string {
  const q = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  const lines: string[] = [];
  for (const f of set.files) {
    const path = f.rel.split("/").map(encodeURIComponent).join("/");
    lines.push(`upload-file = ${q(`${set.dir}/${f.rel}`)}`);
    lines.push(`url = ${q(`ftp://${server.host}:${server.port}/${path}`)}`);
  }
  return lines.join("\n") + "\n";
}

function curlTool(): Tool {
  const bin = findExecutable("curl");
  return {
    name: "curl",
    sequential: true,
    check: () =>
      Promise.resolve(bin ? null : "curl not installed (Debian: apt-get install -y curl)"),
    async run(ctx) {
      const conf = `${ctx.scratch}/${ctx.set.name}.curl.conf`;
      await Deno.writeTextFile(conf, curlConfig(ctx.set, ctx.server));
      // The user goes in a -K file too, so the password is not on the command line.
      const auth = `${ctx.scratch}/curl-auth.conf`;
      await Deno.writeTextFile(
        auth,
        `user = "${ctx.server.user}:${ctx.server.password}"\n`,
        { mode: 0o600 },
      );
      const out = await spawnTimed(
        bin!,
        ["-sS", "--fail", "--ftp-create-dirs", "-K", auth, "-K", conf],
        { timeoutMs: ctx.timeoutMs, signal: ctx.signal, env: { HOME: ctx.scratch }, measure: true },
      );
      const error = failure(out, "curl");
      return { ok: !error, wallS: out.wallS, exitCode: out.code, error, usage: out.usage };
    },
  };
}

// ----------------------------------------------------------------------- raw

/**
 * Uploads `set` with `parallel` minimal connections; in-process. `atomic`
 * sends ftpbatch's command sequence per file (SIZE temp, PASV, STOR temp,
 * SIZE temp, RNFR, RNTO) instead of PASV + STOR.
 */
export async function rawUpload(
  server: ServerInfo,
  set: DataSet,
  parallel: number,
  atomic = false,
): Promise<void> {
  const n = Math.max(1, Math.min(parallel, set.files.length));
  const conns = await Promise.all(
    Array.from(
      { length: n },
      () => RawFtp.open(server.host, server.port, server.user, server.password),
    ),
  );
  try {
    for (const d of set.dirs) await conns[0].mkd(`/${d}`);
    let next = 0;
    await Promise.all(conns.map(async (c) => {
      while (next < set.files.length) {
        const f = set.files[next++];
        const final = `/${f.rel}`;
        if (!atomic) {
          await c.stor(final, `${set.dir}/${f.rel}`);
          continue;
        }
        const cut = final.lastIndexOf("/");
        const tmp = `${final.slice(0, cut)}/.${final.slice(cut + 1)}.bench-tmp.part`;
        c.expect(await c.send(`SIZE ${tmp}`), 550, `SIZE ${tmp}`);
        await c.stor(tmp, `${set.dir}/${f.rel}`);
        const size = c.expect(await c.send(`SIZE ${tmp}`), 213, `SIZE ${tmp}`);
        if (Number(size.message.slice(4)) !== f.size) {
          throw new Error(`SIZE ${tmp}: ${size.message}`);
        }
        c.expect(await c.send(`RNFR ${tmp}`), 350, `RNFR ${tmp}`);
        c.expect(await c.send(`RNTO ${final}`), 250, `RNTO ${final}`);
      }
    }));
  } finally {
    await Promise.all(conns.map((c) => c.quit()));
  }
}

function rawTool(name: string, atomic: boolean): Tool {
  return {
    name,
    sequential: false,
    check: () => Promise.resolve(null),
    async run(ctx) {
      const cpu0 = selfCpuS();
      const t0 = performance.now();
      try {
        await rawUpload(ctx.server, ctx.set, ctx.parallel, atomic);
        const wallS = (performance.now() - t0) / 1000;
        const cpuS = selfCpuS() - cpu0;
        return {
          ok: true,
          wallS,
          exitCode: 0,
          usage: { cpuS, userS: NaN, sysS: NaN, maxRssMiB: NaN },
        };
      } catch (e) {
        return {
          ok: false,
          wallS: (performance.now() - t0) / 1000,
          exitCode: 1,
          error: `${name}: ${(e as Error).message}`,
        };
      }
    },
  };
}

/** CPU seconds (user + system) this process has used so far. */
function selfCpuS(): number {
  const stat = Deno.readTextFileSync("/proc/self/stat");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
}

/** Every tool the benchmark knows, by name. */
export function allTools(): Map<string, Tool> {
  const tools = [
    ftpbatchTool("ftpbatch", []),
    ftpbatchTool("ftpbatch-noatomic", ["--no-atomic"]),
    ftpbatchTool("ftpbatch-task", [], true),
    // No skip check at all: what the skip phase costs a first run is the difference.
    ftpbatchTool("ftpbatch-force", ["--force"]),
    lftpTool(),
    rcloneTool(),
    curlTool(),
    rawTool("raw", false),
    rawTool("raw-atomic", true),
  ];
  return new Map(tools.map((t) => [t.name, t]));
}
