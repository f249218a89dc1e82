/**
 * Test harness that runs a real FTP server (Debian's vsftpd 3.0.x) on
 * 127.0.0.1 as a child process, for integration tests.
 *
 * How it logs in without touching the system: vsftpd refuses a writable
 * anonymous root ("500 OOPS: vsftpd: refusing to run with writable root
 * inside chroot()", `allow_writeable_chroot` is ignored for anonymous
 * logins), so the server uses a real local user with a password instead.
 * vsftpd is started inside private mount and PID namespaces
 * (`unshare --fork --pid --mount`); in them a generated `/etc/passwd`,
 * `/etc/shadow`, `/etc/group` and `/etc/pam.d` (holding only a `pam_unix`
 * service) are bind-mounted. Those mounts exist only for the server's
 * processes and vanish with them; no file outside the temp folder is written.
 * stop() kills the namespace's PID 1, so the kernel kills and reaps every
 * session process too.
 *
 * Needs root, `vsftpd`, `unshare` and `mount` (util-linux).
 * `FTPBATCH_REAL_SERVER=required` turns a missing prerequisite into an error
 * instead of a skip.
 *
 * @module
 */

/** Options for {@linkcode startRealServer}. */
export interface RealServerOptions {
  /** vsftpd `max_per_ip`; logins beyond it get `421` at connect time. */
  maxPerIp?: number;
  /** vsftpd `local_max_rate`: bytes per second per session, so a test can act mid-transfer. */
  maxRate?: number;
  /**
   * Offer explicit FTPS (AUTH TLS) with a certificate for 127.0.0.1 signed by a throwaway CA,
   * `<dir>/ca.pem` (give it to the client, e.g. `DENO_CERT`). TLS session reuse on data
   * connections is required, as vsftpd does by default.
   */
  tls?: boolean;
}

/** A running (or stopped) vsftpd instance. */
export interface RealServer {
  kind: "vsftpd";
  host: "127.0.0.1";
  port: number;
  user: string;
  password: string;
  /** Local folder that is the FTP root `/`; uploaded files land here. */
  root: string;
  /**
   * Numeric owner of files the server writes. Files or folders a test seeds
   * directly into `root` must be chowned to it if the server should be able
   * to overwrite, rename or delete them (see {@linkcode RealServer.seedOwner}).
   */
  uid: number;
  gid: number;
  /** chown a path under `root` (recursively) to the FTP user. */
  seedOwner(path: string): Promise<void>;
  /** Folder holding the config and logs (`vsftpd.log`, `xferlog`). */
  dir: string;
  /** Text of the protocol log so far (every command and response). */
  log(): Promise<string>;
  /** Kill the server and all its session processes; keeps root and port. */
  stop(): Promise<void>;
  /** Start it again on the same port (no-op when running). */
  start(): Promise<void>;
  /** stop() and remove the temp folder. */
  close(): Promise<void>;
}

const ENV_SWITCH = "FTPBATCH_REAL_SERVER";
const USER = "ftpbatch";
/** Fixed: the server checks it through a precomputed SHA-512 crypt hash. */
const PASSWORD = "ftpbatch-test-pw";
const PASSWORD_HASH =
  "$6$ftpbatchtest$gU6UbxxyFox2EOppkxIbUsnW7X8X20BKg7Hg2cBhajScP4mp6OL4QOeAgfr51ZZvQlzwUNa.qNAs7.J5WDXso.";
const PAM_SERVICE = "ftpbatch-test";
const DIR_PREFIX = "ftpbatch-vsftpd-";
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;

/** One line telling how to get the real-server tests to run. */
export function realServerSkipNotice(): string {
  return "real FTP server (vsftpd) tests skipped: run as root after " +
    "`apt-get install -y vsftpd` (uses util-linux unshare/mount); " +
    `${ENV_SWITCH}=required makes this an error`;
}

function required(): boolean {
  return Deno.env.get(ENV_SWITCH) === "required";
}

/** Thrown for missing prerequisites: skip normally, fail when required. */
class Unavailable extends Error {}

function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0o755) & 0o111) !== 0;
  } catch {
    return false;
  }
}

function findBinary(name: string, preferred: string[]): string | null {
  const dirs = (Deno.env.get("PATH") ?? "").split(":").filter((d) => d);
  for (
    const candidate of [
      ...preferred,
      ...dirs.map((d) => `${d}/${name}`),
      `/usr/sbin/${name}`,
      `/usr/bin/${name}`,
      `/sbin/${name}`,
      `/bin/${name}`,
    ]
  ) {
    if (isExecutable(candidate)) return candidate;
  }
  return null;
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
    // unshare and its shell have `dir` as an argument, vsftpd its config.
    killAll(serverPids(null, dir, `${dir}/vsftpd.conf`));
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

/** Connect, log in, quit; "refused" while nothing listens yet. */
async function probeLogin(port: number): Promise<"ok" | "refused"> {
  let conn: Deno.Conn;
  try {
    conn = await Deno.connect({ hostname: "127.0.0.1", port });
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
        throw new Error(`vsftpd ${step}: expected ${prefix}, got "${line}"`);
      }
    };
    await expect("220", "greeting");
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

async function portRefuses(port: number): Promise<boolean> {
  try {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port });
    conn.close();
    return false;
  } catch {
    return true;
  }
}

// --------------------------------------------------------------- the server

const live = new Set<VsftpdServer>();
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

interface Binaries {
  vsftpd: string;
  unshare: string;
  mount: string;
  sh: string;
}

const LAUNCH_SCRIPT = [
  "set -e",
  'd="$1"; m="$2"; v="$3"',
  // The bind mounts live only in this private mount namespace.
  'for f in passwd shadow group; do "$m" --bind "$d/etc/$f" "/etc/$f"; done',
  '"$m" --bind "$d/pam.d" /etc/pam.d',
  // This shell stays PID 1 of the namespace and reaps orphaned session
  // processes; vsftpd as PID 1 would reap them itself and die on the
  // unknown PIDs (its listener only expects its direct children).
  '"$v" "$d/vsftpd.conf" &',
  "wait $!",
].join("\n");

class VsftpdServer implements RealServer {
  readonly kind = "vsftpd" as const;
  readonly host = "127.0.0.1" as const;
  readonly user = USER;
  readonly password = PASSWORD;
  readonly root: string;
  readonly dir: string;
  readonly port: number;
  readonly uid: number;
  readonly gid: number;
  #bins: Binaries;
  #confPath: string;
  #child: Deno.ChildProcess | null = null;
  #stderr: Promise<string> = Promise.resolve("");

  constructor(
    bins: Binaries,
    dir: string,
    port: number,
    uid: number,
    gid: number,
  ) {
    this.#bins = bins;
    this.dir = dir;
    this.root = `${dir}/root`;
    this.port = port;
    this.uid = uid;
    this.gid = gid;
    this.#confPath = `${dir}/vsftpd.conf`;
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
    return Deno.readTextFile(`${this.dir}/vsftpd.log`).catch(() => "");
  }

  async start(): Promise<void> {
    if (this.#child) return;
    const child = new Deno.Command(this.#bins.unshare, {
      args: [
        "--fork",
        "--pid",
        "--kill-child",
        "--mount",
        "--propagation",
        "private",
        "--",
        this.#bins.sh,
        "-c",
        LAUNCH_SCRIPT,
        "sh",
        this.dir,
        this.#bins.mount,
        this.#bins.vsftpd,
      ],
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
          const stderr = (await this.#stderr).trim();
          const text = `vsftpd exited during start-up: ${stderr || "(no stderr)"}\n${await readTail(
            `${this.dir}/vsftpd.log`,
          )}`;
          // unshare/mount refused: the sandbox lacks the privilege.
          if (/^(unshare|mount):/m.test(stderr)) throw new Unavailable(text);
          throw new Error(text);
        }
        if (Date.now() > deadline) {
          throw new Error(
            `vsftpd did not accept connections on 127.0.0.1:${this.port} within ${START_TIMEOUT_MS} ms\n${await readTail(
              `${this.dir}/vsftpd.log`,
            )}`,
          );
        }
        if (await probeLogin(this.port) === "ok") break;
        await sleep(50);
      }
      // The probe's session must be gone before returning, or it would
      // still count against max_per_ip.
      while (Date.now() < deadline) {
        if (this.#vsftpdPids(child.pid).length === 1) return;
        await sleep(20);
      }
    } catch (e) {
      await this.stop();
      throw e;
    }
  }

  /** Live vsftpd processes (listener + sessions) of this server. */
  #vsftpdPids(unsharePid: number): number[] {
    return serverPids(unsharePid, this.#confPath).filter((pid) =>
      cmdline(pid).includes(this.#confPath)
    );
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
    // that started vsftpd) makes the kernel kill and reap every process in
    // it, sessions included (they call setsid(), so a process-group kill
    // would miss them); then unshare exits.
    const inits = childrenOf(child.pid);
    killAll(inits.length > 0 ? inits : [child.pid]);
    try {
      await withTimeout(child.status, STOP_TIMEOUT_MS, "waiting for vsftpd");
    } catch {
      killAll(serverPids(child.pid, this.#confPath));
      await child.status;
    }
    await this.#stderr;
    this.#child = null;
    live.delete(this);
    while (!(await portRefuses(this.port))) {
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

function vsftpdConfig(
  dir: string,
  port: number,
  pasvMin: number,
  opts: RealServerOptions,
): string {
  const lines = [
    // standalone, foreground, loopback only
    "listen=YES",
    "listen_ipv6=NO",
    "listen_address=127.0.0.1",
    `listen_port=${port}`,
    "background=NO",
    // local user login through our own PAM service (see module doc)
    "anonymous_enable=NO",
    "local_enable=YES",
    `pam_service_name=${PAM_SERVICE}`,
    "userlist_enable=NO",
    "tcp_wrappers=NO",
    "session_support=NO",
    "chroot_local_user=YES",
    "allow_writeable_chroot=YES",
    `local_root=${dir}/root`,
    `secure_chroot_dir=${dir}/empty`,
    "nopriv_user=nobody",
    // writes: STOR, APPE, REST+STOR, MKD, RMD, DELE, RNFR/RNTO, SITE CHMOD
    "write_enable=YES",
    "local_umask=022",
    "mdtm_write=YES",
    // data connections
    "pasv_enable=YES",
    "port_enable=YES",
    "connect_from_port_20=NO",
    `pasv_min_port=${pasvMin}`,
    `pasv_max_port=${pasvMin + 39}`,
    // containers: no seccomp, no per-session namespaces (also faster)
    "seccomp_sandbox=NO",
    "isolate=NO",
    "isolate_network=NO",
    // names are stored as the UTF-8 bytes the client sends; FEAT lists UTF8
    "utf8_filesystem=YES",
    // logs in the temp folder
    "syslog_enable=NO",
    "xferlog_enable=YES",
    `xferlog_file=${dir}/xferlog`,
    "dual_log_enable=YES",
    `vsftpd_log_file=${dir}/vsftpd.log`,
    "log_ftp_protocol=YES",
    "dirmessage_enable=NO",
  ];
  if (opts.maxPerIp !== undefined) {
    if (!Number.isInteger(opts.maxPerIp) || opts.maxPerIp < 1) {
      throw new RangeError(`maxPerIp must be a positive integer`);
    }
    lines.push(`max_per_ip=${opts.maxPerIp}`);
  }
  if (opts.maxRate !== undefined) lines.push(`local_max_rate=${opts.maxRate}`);
  if (opts.tls) {
    lines.push(
      "ssl_enable=YES",
      `rsa_cert_file=${dir}/server.pem`,
      `rsa_private_key_file=${dir}/server.key`,
      "allow_anon_ssl=NO",
      "force_local_logins_ssl=NO",
      "force_local_data_ssl=NO",
      "require_ssl_reuse=YES",
      "ssl_ciphers=HIGH",
    );
  }
  return lines.join("\n") + "\n";
}

async function prepare(opts: RealServerOptions): Promise<VsftpdServer> {
  if (Deno.build.os !== "linux") {
    throw new Unavailable("the real FTP server harness needs Linux");
  }
  if (Deno.uid() !== 0) {
    throw new Unavailable("the real FTP server harness needs root");
  }
  const vsftpd = findBinary("vsftpd", ["/usr/sbin/vsftpd"]);
  if (!vsftpd) throw new Unavailable("vsftpd not found");
  const unshare = findBinary("unshare", []);
  const mount = findBinary("mount", []);
  if (!unshare || !mount) throw new Unavailable("unshare/mount not found");
  const sh = findBinary("sh", ["/bin/sh"]) ?? "/bin/sh";

  const dir = await Deno.makeTempDir({ prefix: DIR_PREFIX });
  try {
    if (/[:\n]/.test(dir)) throw new Error(`unusable temp folder ${dir}`);
    await Deno.writeTextFile(`${dir}/owner.pid`, `${Deno.pid}\n`);
    sweepStale(dir.slice(0, dir.lastIndexOf("/")));
    await Deno.chmod(dir, 0o755);
    const uid = freeId("/etc/passwd", 40123);
    const gid = freeId("/etc/group", uid);
    await Deno.mkdir(`${dir}/root`, { mode: 0o755 });
    await Deno.chown(`${dir}/root`, uid, gid);
    await Deno.mkdir(`${dir}/empty`, { mode: 0o755 });
    await Deno.mkdir(`${dir}/etc`, { mode: 0o755 });
    await Deno.mkdir(`${dir}/pam.d`, { mode: 0o755 });
    // Generated from scratch: nothing is copied from the host's files.
    await Deno.writeTextFile(
      `${dir}/etc/passwd`,
      [
        "root:x:0:0:root:/root:/bin/sh",
        "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin",
        `${USER}:x:${uid}:${gid}:ftpbatch test:${dir}/root:/bin/sh`,
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
    const port = freePort();
    // Per-server random passive range below the ephemeral range (32768+);
    // vsftpd retries another port of the range if one is taken.
    const pasvMin = 20000 + 40 * Math.floor(Math.random() * 300);
    if (opts.tls) await makeCertificates(dir);
    await Deno.writeTextFile(
      `${dir}/vsftpd.conf`,
      vsftpdConfig(dir, port, pasvMin, opts),
      { mode: 0o600 },
    );
    return new VsftpdServer(
      { vsftpd, unshare, mount, sh },
      dir,
      port,
      uid,
      gid,
    );
  } catch (e) {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
    throw e;
  }
}

/**
 * Start vsftpd on 127.0.0.1 with a fresh temp root. Returns null (after one
 * notice line on stderr) when the prerequisites are missing, unless
 * `FTPBATCH_REAL_SERVER=required`, in which case it throws.
 */
export async function startRealServer(
  opts: RealServerOptions = {},
): Promise<RealServer | null> {
  let server: VsftpdServer | null = null;
  try {
    server = await prepare(opts);
    hookUnload();
    await server.start();
    return server;
  } catch (e) {
    if (server) await server.close().catch(() => {});
    if (!(e instanceof Unavailable)) throw e;
    if (required()) {
      throw new Error(
        `${ENV_SWITCH}=required but ${e.message} ` +
          "(as root: apt-get install -y vsftpd)",
      );
    }
    if (!noticePrinted) {
      noticePrinted = true;
      console.error(`${e.message.split("\n")[0]}; ${realServerSkipNotice()}`);
    }
    return null;
  }
}

/** A throwaway CA (`ca.pem`) and a server certificate for IP 127.0.0.1 signed by it. */
async function makeCertificates(dir: string): Promise<void> {
  const openssl = findBinary("openssl", ["/usr/bin/openssl"]);
  if (!openssl) throw new Unavailable("openssl not found (needed for the FTPS server)");
  await Deno.writeTextFile(`${dir}/ext.cnf`, "subjectAltName=IP:127.0.0.1\n");
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
