/**
 * Test fixtures for real FTP servers on 127.0.0.1, run as child processes:
 * vsftpd, pure-ftpd, proftpd (with settings) and pyftpdlib. The matrix of
 * configurations the product is tested against is {@linkcode MATRIX};
 * {@linkcode realServerTest} registers a test that gets a fresh server and
 * is `ignore`d, with the reason in its name, where the server cannot run
 * here (`FTPBATCH_REAL_SERVER=required` turns that into a failure instead).
 * Kind-specific configuration lives in `server_kinds.ts`.
 *
 * How it logs in without touching the system: vsftpd refuses a writable
 * anonymous root ("500 OOPS: vsftpd: refusing to run with writable root
 * inside chroot()"), so every server uses a local user with a password. Each
 * server is started inside private mount and PID namespaces
 * (`unshare --fork --pid --mount`); in them a generated `/etc/passwd`,
 * `/etc/shadow`, `/etc/group` and `/etc/pam.d` (holding only a `pam_unix`
 * service, for vsftpd) are bind-mounted. Those mounts exist only for the
 * server's processes and vanish with them; no file outside the temp folder is
 * written. stop() kills the namespace's PID 1, so the kernel kills and reaps
 * every session process too (pure-ftpd and proftpd fork one per login).
 *
 * Needs root, `unshare` and `mount` (util-linux) and the server program.
 *
 * @module
 */

import {
  configure,
  findBinary,
  type Launch,
  type Layout,
  locate,
  type RealServerOptions,
  type ServerKind,
} from "./server_kinds.ts";

import { integration } from "./kit.ts";

export type { RealServerOptions, ServerKind } from "./server_kinds.ts";

/** A running (or stopped) server instance. */
export interface RealServer {
  kind: ServerKind;
  host: "127.0.0.1";
  port: number;
  user: string;
  password: string;
  /** Local folder that is the FTP root `/`; uploaded files land here. */
  root: string;
  /** The passive port range the server was given (it may pick any port of it). */
  pasvPorts: [number, number];
  /**
   * Numeric owner of files the server writes. Files or folders a test seeds
   * directly into `root` must be chowned to it if the server should be able
   * to overwrite, rename or delete them (see {@linkcode RealServer.seedOwner}).
   */
  uid: number;
  gid: number;
  /** chown a path under `root` (recursively) to the FTP user. */
  seedOwner(path: string): Promise<void>;
  /** Folder holding the config, logs and (with `tls`) `ca.pem`. */
  dir: string;
  /** The log with the commands the server received (vsftpd, proftpd, pyftpdlib: each command). */
  logFile: string;
  /** Text of that log so far. */
  log(): Promise<string>;
  /** Kill the server and all its session processes; keeps root and port. */
  stop(): Promise<void>;
  /**
   * Process ids of the per-login session processes (children of the listener), for servers
   * that fork one per login (vsftpd, pure-ftpd, proftpd); empty for pyftpdlib.
   */
  sessionPids(): number[];
  /** Start it again on the same port (no-op when running). */
  start(): Promise<void>;
  /** stop() and remove the temp folder. */
  close(): Promise<void>;
}

/** One server configuration of the test matrix. */
export interface MatrixEntry {
  /** Short name used in test names, e.g. `proftpd HiddenStores on`. */
  name: string;
  /** Server options every test of this configuration starts with. */
  options: RealServerOptions;
  /** The server resumes a partial upload (REST+STOR or APPE); else only a full re-send works. */
  resumes: boolean;
  /** Uploads go to a hidden name first and appear under their own name only at the end. */
  hiddenStores?: boolean;
}

/**
 * The servers and settings the product is tested against (README "Tested servers").
 * proftpd's own default is `AllowStoreRestart off` (REST answered 350, then STOR/APPE 451),
 * so plain `proftpd` is that setting; `AllowStoreRestart on` is the configuration that resumes.
 */
export const MATRIX: readonly MatrixEntry[] = [
  { name: "vsftpd", options: { kind: "vsftpd" }, resumes: true },
  { name: "pure-ftpd", options: { kind: "pure-ftpd" }, resumes: true },
  { name: "proftpd", options: { kind: "proftpd" }, resumes: false },
  {
    name: "proftpd HiddenStores on",
    options: { kind: "proftpd", proftpd: ["HiddenStores on"] },
    resumes: false,
    hiddenStores: true,
  },
  {
    name: "proftpd AllowStoreRestart on",
    options: { kind: "proftpd", proftpd: ["AllowStoreRestart on"] },
    resumes: true,
  },
  { name: "pyftpdlib", options: { kind: "pyftpdlib" }, resumes: true },
];

/** The matrix entry called `name`. */
export function matrixEntry(name: string): MatrixEntry {
  const entry = MATRIX.find((m) => m.name === name);
  if (!entry) throw new Error(`no server configuration "${name}" in MATRIX`);
  return entry;
}

const ENV_SWITCH = "FTPBATCH_REAL_SERVER";
const USER = "ftpbatch";
/** Fixed: the servers check it through a precomputed SHA-512 crypt hash. */
const PASSWORD = "ftpbatch-test-pw";
const PASSWORD_HASH =
  "$6$ftpbatchtest$gU6UbxxyFox2EOppkxIbUsnW7X8X20BKg7Hg2cBhajScP4mp6OL4QOeAgfr51ZZvQlzwUNa.qNAs7.J5WDXso.";
const PAM_SERVICE = "ftpbatch-test";
const DIR_PREFIX = "ftpbatch-ftpd-";
const START_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 5_000;

function required(): boolean {
  return Deno.env.get(ENV_SWITCH) === "required";
}

/** Thrown for missing prerequisites: skip normally, fail when required. */
class Unavailable extends Error {}

/** One line telling how to get the real-server tests to run (for callers deciding on their own). */
export function realServerSkipNotice(): string {
  return "real FTP server tests ignored: run as root after .ci/run (vsftpd, pure-ftpd, proftpd, " +
    `pyftpdlib; util-linux unshare/mount); ${ENV_SWITCH}=required makes this an error`;
}

/** Why a server with these options cannot run here, or null when it can. Synchronous. */
export function unavailableReason(opts: RealServerOptions = {}): string | null {
  if (Deno.build.os !== "linux") return "the real FTP server harness needs Linux";
  if (Deno.uid() !== 0) return "the real FTP server harness needs root";
  if (!findBinary("unshare") || !findBinary("mount")) return "unshare/mount not found (util-linux)";
  if (usesTls(opts) && !findBinary("openssl", ["/usr/bin/openssl"])) {
    return "openssl not found (needed for the FTPS server)";
  }
  const found = locate(opts.kind ?? "vsftpd", opts.tls ?? false);
  return "missing" in found ? found.missing : null;
}

/**
 * The one rule for a test that needs something this machine may lack (a real server, a
 * Python module): with `reason` (why it cannot run here) the test is ignored, the reason in
 * its name, unless `FTPBATCH_REAL_SERVER=required` (then it runs, and fails). Name and
 * options for `Deno.test(name, options, fn)`.
 */
export function serverCase(
  name: string,
  reason: string | null,
): [string, Omit<Deno.TestDefinition, "fn" | "name">] {
  const skip = reason !== null && !required();
  return [
    skip ? `${name} [ignored: ${reason}; ${ENV_SWITCH}=required makes it fail]` : name,
    { ignore: skip, ...integration },
  ];
}

/**
 * {@linkcode serverCase} for a test that starts its own server(s) with
 * {@linkcode startServer}: ignored where such a server cannot run here.
 */
export function realServerCase(
  name: string,
  opts: RealServerOptions = {},
): [string, Omit<Deno.TestDefinition, "fn" | "name">] {
  return serverCase(name, unavailableReason(opts));
}

/**
 * Registers a test that runs `fn` against a fresh server (closed afterwards). Where the
 * server cannot run here the test is ignored, the reason in its name; with
 * `FTPBATCH_REAL_SERVER=required` it runs and fails with that reason.
 */
export function realServerTest(
  name: string,
  opts: RealServerOptions,
  fn: (server: RealServer) => Promise<void>,
): void {
  Deno.test(...realServerCase(name, opts), async () => {
    const server = await startServer(opts);
    try {
      await fn(server);
    } finally {
      await server.close();
    }
  });
}

// ---------------------------------------------------------------- /proc utils

interface ProcInfo {
  pid: number;
  ppid: number;
  state: string;
}

function procStat(pid: number): ProcInfo | null {
  try {
    const text = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // "pid (comm) state ppid ..."; comm may contain spaces and parentheses.
    const rest = text.slice(text.lastIndexOf(")") + 2).split(" ");
    return { pid, state: rest[0], ppid: Number(rest[1]) };
  } catch {
    return null;
  }
}

function allPids(): number[] {
  const pids: number[] = [];
  for (const entry of Deno.readDirSync("/proc")) {
    if (/^\d+$/.test(entry.name)) pids.push(Number(entry.name));
  }
  return pids;
}

function cmdline(pid: number): string[] {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
  } catch {
    return [];
  }
}

/** Live (non-zombie) processes: `root` and its descendants, plus any process
 * with one of `markers` as a command-line argument. */
function serverPids(root: number | null, ...markers: string[]): number[] {
  const stats = allPids().map(procStat).filter((s): s is ProcInfo => s !== null);
  const found = new Set<number>();
  if (root !== null) {
    found.add(root);
    let grew = true;
    while (grew) {
      grew = false;
      for (const s of stats) {
        if (!found.has(s.pid) && found.has(s.ppid)) {
          found.add(s.pid);
          grew = true;
        }
      }
    }
  }
  for (const s of stats) {
    if (found.has(s.pid)) continue;
    const args = cmdline(s.pid);
    if (markers.some((m) => args.includes(m))) found.add(s.pid);
  }
  return stats.filter((s) => found.has(s.pid) && s.state !== "Z").map((s) => s.pid);
}

/** Live direct children of `pid`. */
function childrenOf(pid: number): number[] {
  return allPids().map(procStat).filter((s): s is ProcInfo =>
    s !== null && s.ppid === pid && s.state !== "Z"
  ).map((s) => s.pid);
}

function killAll(pids: number[]): void {
  for (const pid of pids) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
}

function isAlive(pid: number): boolean {
  const s = procStat(pid);
  return s !== null && s.state !== "Z";
}

// ------------------------------------------------------------ stale cleanup

/** Kill servers (and remove folders) left by a test process that died
 * without calling close(): identified by the owner pid in `owner.pid`. */
function sweepStale(tmpRoot: string): void {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(tmpRoot)];
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.isDirectory || !entry.name.startsWith(DIR_PREFIX)) continue;
    const dir = `${tmpRoot}/${entry.name}`;
    let owner: number;
    try {
      owner = Number(Deno.readTextFileSync(`${dir}/owner.pid`).trim());
    } catch {
      continue; // being created right now, or not ours
    }
    if (!Number.isInteger(owner) || owner <= 0 || isAlive(owner)) continue;
    // unshare and its shell have `dir` as an argument.
    killAll(serverPids(null, dir));
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // best effort
    }
  }
}

// ------------------------------------------------------------ small helpers

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function freeId(file: string, from: number): number {
  let used = new Set<number>();
  try {
    used = new Set(
      Deno.readTextFileSync(file).split("\n").map((l) => Number(l.split(":")[2]))
        .filter((n) => Number.isInteger(n)),
    );
  } catch {
    // no such file: anything is free
  }
  let id = from;
  while (used.has(id)) id++;
  return id;
}

async function readTail(path: string, lines = 15): Promise<string> {
  try {
    return (await Deno.readTextFile(path)).trimEnd().split("\n").slice(-lines)
      .join("\n");
  } catch {
    return "";
  }
}

/** Reads FTP replies from a socket; returns the final line of each reply. */
class ReplyReader {
  #conn: Deno.Conn;
  #buf = "";
  #decoder = new TextDecoder();
  constructor(conn: Deno.Conn) {
    this.#conn = conn;
  }
  async next(): Promise<string> {
    while (true) {
      const lines = this.#buf.split("\r\n");
      for (let i = 0; i < lines.length - 1; i++) {
        if (/^\d{3} /.test(lines[i])) {
          this.#buf = lines.slice(i + 1).join("\r\n");
          return lines[i];
        }
      }
      const chunk = new Uint8Array(4096);
      const n = await this.#conn.read(chunk);
      if (n === null) {
        const rest = this.#buf.trim();
        throw new Error(
          `connection closed by server${rest ? `: ${rest}` : ""}`,
        );
      }
      this.#buf += this.#decoder.decode(chunk.subarray(0, n), {
        stream: true,
      });
    }
  }
}

async function withTimeout<T>(
  p: Promise<T>,
  ms: number,
  what: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${what}: timed out after ${ms} ms`)),
          ms,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether the server needs the throwaway certificates. */
function usesTls(opts: RealServerOptions): boolean {
  return Boolean(opts.tls || opts.implicitTls || opts.tlsRequired);
}

/**
 * Connect, log in, quit; "refused" while nothing listens yet. Implicit FTPS: over TLS (trusting
 * `ca.pem` in `dir`); a server refusing cleartext logins: the greeting is enough.
 */
async function probeLogin(
  port: number,
  kind: string,
  opts: RealServerOptions,
  dir: string,
): Promise<"ok" | "refused"> {
  let conn: Deno.Conn;
  try {
    conn = opts.implicitTls
      ? await Deno.connectTls({
        hostname: "127.0.0.1",
        port,
        caCerts: [await Deno.readTextFile(`${dir}/ca.pem`)],
      })
      : await Deno.connect({ hostname: opts.address ?? "127.0.0.1", port });
  } catch (e) {
    if (e instanceof Deno.errors.ConnectionRefused) return "refused";
    throw e;
  }
  try {
    const reader = new ReplyReader(conn);
    const enc = new TextEncoder();
    const expect = async (prefix: string, step: string) => {
      const line = await withTimeout(reader.next(), 5000, step);
      if (!line.startsWith(prefix)) {
        throw new Error(`${kind} ${step}: expected ${prefix}, got "${line}"`);
      }
    };
    await expect("220", "greeting");
    if (opts.tlsRequired) return "ok";
    await conn.write(enc.encode(`USER ${USER}\r\n`));
    await expect("331", "USER");
    await conn.write(enc.encode(`PASS ${PASSWORD}\r\n`));
    await expect("230", "login");
    await conn.write(enc.encode("QUIT\r\n"));
    await expect("221", "QUIT");
    return "ok";
  } finally {
    try {
      conn.close();
    } catch {
      // closed already
    }
  }
}

async function portRefuses(port: number, hostname = "127.0.0.1"): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname, port });
    conn.close();
    return false;
  } catch {
    return true;
  }
}

// --------------------------------------------------------------- the server

const live = new Set<ServerProcess>();
let unloadHooked = false;
let noticePrinted = false;

function hookUnload(): void {
  if (unloadHooked) return;
  unloadHooked = true;
  // Last resort if a test forgets close(): kill synchronously on exit.
  globalThis.addEventListener("unload", () => {
    for (const server of live) server.killNow();
  });
}

interface Tools {
  unshare: string;
  mount: string;
  sh: string;
}

const LAUNCH_SCRIPT = [
  "set -e",
  'd="$1"; m="$2"; shift 2',
  // The bind mounts live only in this private mount namespace.
  'for f in passwd shadow group; do "$m" --bind "$d/etc/$f" "/etc/$f"; done',
  '"$m" --bind "$d/pam.d" /etc/pam.d',
  // This shell stays PID 1 of the namespace and reaps orphaned session
  // processes; vsftpd as PID 1 would reap them itself and die on the
  // unknown PIDs (its listener only expects its direct children).
  '"$@" &',
  "wait $!",
].join("\n");

class ServerProcess implements RealServer {
  readonly host = "127.0.0.1" as const;
  readonly user = USER;
  readonly password = PASSWORD;
  readonly root: string;
  readonly dir: string;
  readonly port: number;
  readonly uid: number;
  readonly gid: number;
  readonly logFile: string;
  readonly pasvPorts: [number, number];
  #tools: Tools;
  #launch: Launch;
  #opts: RealServerOptions;
  #child: Deno.ChildProcess | null = null;
  #stderr: Promise<string> = Promise.resolve("");

  constructor(
    readonly kind: ServerKind,
    tools: Tools,
    launch: Launch,
    layout: Layout,
    opts: RealServerOptions = {},
  ) {
    this.#tools = tools;
    this.#opts = opts;
    this.#launch = launch;
    this.logFile = launch.logFile;
    this.dir = layout.dir;
    this.root = layout.root;
    this.port = layout.port;
    this.pasvPorts = [layout.pasvMin, layout.pasvMax];
    this.uid = layout.uid;
    this.gid = layout.gid;
  }

  async seedOwner(path: string): Promise<void> {
    await Deno.chown(path, this.uid, this.gid);
    const st = await Deno.lstat(path);
    if (st.isDirectory) {
      for await (const entry of Deno.readDir(path)) {
        await this.seedOwner(`${path}/${entry.name}`);
      }
    }
  }

  log(): Promise<string> {
    return Deno.readTextFile(this.logFile).catch(() => "");
  }

  async #diagnostics(): Promise<string> {
    const stderr = (await this.#stderr).trim();
    const logs = await Promise.all(
      [this.logFile, `${this.dir}/proftpd.log`].map((f) => readTail(f)),
    );
    return [stderr || "(no stderr)", ...logs.filter((t) => t)].join("\n");
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const child = new Deno.Command(this.#tools.unshare, {
      args: [
        "--fork",
        "--pid",
        "--kill-child",
        "--mount",
        "--propagation",
        "private",
        "--",
        this.#tools.sh,
        "-c",
        LAUNCH_SCRIPT,
        "sh",
        this.dir,
        this.#tools.mount,
        ...this.#launch.argv,
      ],
      env: this.#launch.env,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).spawn();
    this.#child = child;
    this.#stderr = new Response(child.stderr).text().catch(() => "");
    live.add(this);
    let exited = false;
    const status = child.status.then((s) => {
      exited = true;
      return s;
    });
    try {
      const deadline = Date.now() + START_TIMEOUT_MS;
      while (true) {
        if (exited) {
          await status;
          const text = `${this.kind} exited during start-up: ${await this.#diagnostics()}`;
          // unshare/mount refused: the sandbox lacks the privilege.
          if (/^(unshare|mount):/m.test(await this.#stderr)) throw new Unavailable(text);
          throw new Error(text);
        }
        if (Date.now() > deadline) {
          throw new Error(
            `${this.kind} did not accept connections on 127.0.0.1:${this.port} within ` +
              `${START_TIMEOUT_MS} ms\n${await readTail(this.logFile)}`,
          );
        }
        if (await probeLogin(this.port, this.kind, this.#opts, this.dir) === "ok") break;
        await sleep(50);
      }
      // The probe's session must be gone before returning, or it would still count against
      // the per-IP limit: only unshare, the namespace's shell and the listener are left.
      while (Date.now() < deadline) {
        if (serverPids(child.pid).length <= 3) return;
        await sleep(20);
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  sessionPids(): number[] {
    if (!this.#child) return [];
    const listener = childrenOf(this.#child.pid).flatMap(childrenOf)[0];
    return listener === undefined ? [] : childrenOf(listener);
  }

  /** Synchronous kill, for the unload hook. */
  killNow(): void {
    if (this.#child) killAll(childrenOf(this.#child.pid));
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    // The server runs in its own PID namespace: killing its PID 1 (the shell
    // that started it) makes the kernel kill and reap every process in it,
    // sessions included (they call setsid(), so a process-group kill would
    // miss them); then unshare exits.
    const inits = childrenOf(child.pid);
    killAll(inits.length > 0 ? inits : [child.pid]);
    try {
      await withTimeout(child.status, STOP_TIMEOUT_MS, `waiting for ${this.kind}`);
    } catch {
      killAll(serverPids(child.pid, this.dir));
      await child.status;
    }
    await this.#stderr;
    this.#child = null;
    live.delete(this);
    while (!(await portRefuses(this.port, this.#opts.address))) {
      if (Date.now() > deadline) {
        throw new Error(`port ${this.port} still accepts after stop()`);
      }
      await sleep(20);
    }
  }

  async close(): Promise<void> {
    try {
      await this.stop();
    } finally {
      await Deno.remove(this.dir, { recursive: true }).catch(() => {});
    }
  }
}

async function prepare(opts: RealServerOptions): Promise<ServerProcess> {
  const reason = unavailableReason(opts);
  if (reason) throw new Unavailable(reason);
  const kind = opts.kind ?? "vsftpd";
  const found = locate(kind, opts.tls ?? false);
  if ("missing" in found) throw new Unavailable(found.missing);
  const tools: Tools = {
    unshare: findBinary("unshare")!,
    mount: findBinary("mount")!,
    sh: findBinary("sh", ["/bin/sh"]) ?? "/bin/sh",
  };

  const dir = await Deno.makeTempDir({ prefix: DIR_PREFIX });
  try {
    if (/[:\n]/.test(dir)) throw new Error(`unusable temp folder ${dir}`);
    await Deno.writeTextFile(`${dir}/owner.pid`, `${Deno.pid}\n`);
    sweepStale(dir.slice(0, dir.lastIndexOf("/")));
    await Deno.chmod(dir, 0o755);
    const uid = freeId("/etc/passwd", 40123);
    const gid = freeId("/etc/group", uid);
    const root = `${dir}/root`;
    await Deno.mkdir(root, { mode: 0o755 });
    await Deno.chown(root, uid, gid);
    await Deno.mkdir(`${dir}/empty`, { mode: 0o755 });
    await Deno.mkdir(`${dir}/etc`, { mode: 0o755 });
    await Deno.mkdir(`${dir}/pam.d`, { mode: 0o755 });
    // Generated from scratch: nothing is copied from the host's files.
    await Deno.writeTextFile(
      `${dir}/etc/passwd`,
      [
        "root:x:0:0:root:/root:/bin/sh",
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
        `${USER}:x:${uid}:${gid}:ftpbatch test:${root}:/bin/sh`,
      ].join("\n") + "\n",
      { mode: 0o644 },
    );
    await Deno.writeTextFile(
      `${dir}/etc/shadow`,
      `${USER}:${PASSWORD_HASH}:19000:0:99999:7:::\n`,
      { mode: 0o600 },
    );
    await Deno.writeTextFile(
      `${dir}/etc/group`,
      ["root:x:0:", "nogroup:x:65534:", `${USER}:x:${gid}:`].join("\n") + "\n",
      { mode: 0o644 },
    );
    await Deno.writeTextFile(
      `${dir}/pam.d/${PAM_SERVICE}`,
      [
        // pam_unix reads the shadow file directly as root; no helper forks
        // (a forking module such as pam_exec deadlocks vsftpd's SIGCHLD).
        "auth required pam_unix.so nodelay",
        "account required pam_permit.so",
        "session required pam_permit.so",
      ].join("\n") + "\n",
      { mode: 0o644 },
    );
    // Per-server random passive range below the ephemeral range (32768+);
    // the servers take another port of the range if one is in use.
    const pasvMin = 20000 + 40 * Math.floor(Math.random() * 300);
    const layout: Layout = {
      dir,
      root,
      port: freePort(),
      pasvMin,
      pasvMax: pasvMin + 39,
      uid,
      gid,
      user: USER,
      password: PASSWORD,
      passwordHash: PASSWORD_HASH,
      pamService: PAM_SERVICE,
    };
    if (usesTls(opts)) await makeCertificates(dir);
    const launch = await configure(kind, found.bin, layout, opts);
    return new ServerProcess(kind, tools, launch, layout, opts);
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

/** Start a server on 127.0.0.1 with a fresh temp root; throws when it cannot run here. */
export async function startServer(opts: RealServerOptions = {}): Promise<RealServer> {
  let server: ServerProcess | null = null;
  try {
    server = await prepare(opts);
    hookUnload();
    await server.start();
    return server;
  } catch (e) {
    if (server) await server.close().catch(() => {});
    if (e instanceof Unavailable && required()) {
      throw new Error(`${ENV_SWITCH}=required but ${e.message}`);
    }
    throw e;
  }
}

/**
 * Start a server (vsftpd unless `opts.kind` says otherwise), or return null
 * (after one notice line on stderr) when it cannot run here, unless
 * `FTPBATCH_REAL_SERVER=required`, in which case it throws. For callers
 * outside `Deno.test` (the benchmark); tests use {@linkcode realServerTest}.
 */
export async function startRealServer(
  opts: RealServerOptions = {},
): Promise<RealServer | null> {
  try {
    return await startServer(opts);
  } catch (e) {
    if (!(e instanceof Unavailable)) throw e;
    if (!noticePrinted) {
      noticePrinted = true;
      console.error(`real FTP server unavailable: ${e.message.split("\n")[0]}`);
    }
    return null;
  }
}

/** A throwaway CA (`ca.pem`) and a server certificate for IP 127.0.0.1 signed by it. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = findBinary("openssl", ["/usr/bin/openssl"]);
  if (!openssl) throw new Unavailable("openssl not found (needed for the FTPS server)");
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1,IP:127.0.0.3\n");
  const steps = [
    ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem"]
      .concat(["-days", "2", "-subj", "/CN=ftpbatch test CA"]),
    ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", "server.key", "-out", "server.csr"]
      .concat(["-subj", "/CN=127.0.0.1"]),
    ["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key"]
      .concat(["-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf"]),
  ];
  for (const args of steps) {
    const out = await new Deno.Command(openssl, { args, cwd: dir, stdout: "null", stderr: "piped" })
      .output();
    if (!out.success) {
      throw new Error(`openssl ${args[0]} failed: ${new TextDecoder().decode(out.stderr)}`);
    }
  }
}
