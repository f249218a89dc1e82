/**
 * What differs between the real FTP servers the tests run (vsftpd,
 * pure-ftpd, proftpd, pyftpdlib): where the binary is, the config file or
 * command line for a loopback port, and the log that shows the protocol.
 * The process handling (namespaces, start, stop, probe) is shared, in
 * `real_server.ts`.
 *
 * pure-ftpd and proftpd conflict with vsftpd as Debian packages, so CI does
 * not install them: `.ci/run` unpacks the .debs (`dpkg -x`) into
 * {@linkcode serverCacheDir}, and they run from there with `LD_LIBRARY_PATH`
 * pointing at the few libraries unpacked beside them.
 *
 * @module
 */

/** The server programs of the matrix. */
export type ServerKind = "vsftpd" | "pure-ftpd" | "proftpd" | "pyftpdlib";

/** How a test server is set up; every field is optional. */
export interface RealServerOptions {
  /** Which program (default vsftpd). */
  kind?: ServerKind;
  /** Extra proftpd directives, e.g. `HiddenStores on` (proftpd only). */
  proftpd?: string[];
  /** Per-IP connection limit; logins beyond it are refused (421, or 530 on proftpd). */
  maxPerIp?: number;
  /** Upload bytes per second per session, so a test can act mid-transfer. */
  maxRate?: number;
  /**
   * Offer explicit FTPS (AUTH TLS) with a certificate for 127.0.0.1 signed by a throwaway CA,
   * `<dir>/ca.pem` (give it to the client, e.g. `DENO_CERT`). Each server keeps its own
   * defaults for data connections (vsftpd, proftpd: TLS session reuse required).
   */
  tls?: boolean;
  /**
   * Implicit FTPS (TLS from the first byte, no AUTH TLS; vsftpd `implicit_ssl=YES`, proftpd
   * `TLSOptions UseImplicitSSL`), with the same certificates as `tls`; implies `tls`.
   */
  implicitTls?: boolean;
  /** Logins in cleartext are refused (vsftpd `force_local_logins_ssl`, pure-ftpd `--tls 2`). */
  tlsRequired?: boolean;
  /**
   * Listen on this loopback address instead of 127.0.0.1 (vsftpd only): the bench's blind
   * latency proxy then takes 127.0.0.1's control and passive ports (`bench/latency_proxy.ts`).
   */
  address?: string;
  /** Extra vsftpd.conf lines, e.g. `pasv_enable=NO` (vsftpd only; a later line wins). */
  vsftpd?: string[];
  /**
   * pyftpdlib only: show times in this local zone (`use_gmt_times = False`, `TZ` set to it,
   * e.g. `"Etc/GMT-5"` for UTC+5) in LIST, MLSD and MDTM, as some servers in the wild do.
   */
  localTimeZone?: string;
}

/** Fixed paths and ids of one server instance, for writing its config. */
export interface Layout {
  dir: string;
  root: string;
  port: number;
  pasvMin: number;
  pasvMax: number;
  uid: number;
  gid: number;
  user: string;
  password: string;
  passwordHash: string;
  pamService: string;
}

/** What `real_server.ts` needs to start one kind. */
export interface Launch {
  /** Program and arguments, run inside the server's private namespaces. */
  argv: string[];
  env?: Record<string, string>;
  /** The log holding the commands the server received. */
  logFile: string;
}

const PYFTPDLIB_SCRIPT = new URL("./pyftpdlib_server.py", import.meta.url).pathname;
/** Debian's interpreter: the one that has python3-pyftpdlib (a pyenv python3 on PATH has not). */
const DEBIAN_PYTHON = "/usr/bin/python3";

/** Where `.ci/run` unpacks pure-ftpd and proftpd (`FTPBATCH_SERVERS_DIR` overrides). */
export function serverCacheDir(): string {
  const explicit = Deno.env.get("FTPBATCH_SERVERS_DIR");
  if (explicit) return explicit;
  const cache = Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/root"}/.cache`;
  return `${cache}/ftpbatch-ci/servers`;
}

function isExecutable(path: string): boolean {
  try {
    const st = Deno.statSync(path);
    return st.isFile && ((st.mode ?? 0o755) & 0o111) !== 0;
  } catch {
    return false;
  }
}

/** A program: given paths first, then PATH, then the sbin/bin folders. */
export function findBinary(name: string, preferred: string[] = []): string | null {
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

const pythonChecks = new Map<string, boolean>();
function pythonHas(module: string): boolean {
  let ok = pythonChecks.get(module);
  if (ok === undefined) {
    try {
      ok = new Deno.Command(DEBIAN_PYTHON, {
        args: ["-c", `import ${module}`],
        stdout: "null",
        stderr: "null",
      }).outputSync().success;
    } catch {
      ok = false;
    }
    pythonChecks.set(module, ok);
  }
  return ok;
}

/** The server program, or why it cannot run here. */
export function locate(kind: ServerKind, tls: boolean): { bin: string } | { missing: string } {
  const cache = `${serverCacheDir()}/usr/sbin`;
  switch (kind) {
    case "vsftpd": {
      const bin = findBinary("vsftpd", ["/usr/sbin/vsftpd"]);
      return bin ? { bin } : { missing: "vsftpd not found (apt-get install -y vsftpd)" };
    }
    case "pure-ftpd":
    case "proftpd": {
      const bin = findBinary(kind, [`${cache}/${kind}`]);
      return bin
        ? { bin }
        : { missing: `${kind} not found in ${cache} (run .ci/run to unpack it)` };
    }
    case "pyftpdlib": {
      if (!pythonHas("pyftpdlib")) {
        return { missing: `${DEBIAN_PYTHON} lacks pyftpdlib (apt-get install python3-pyftpdlib)` };
      }
      if (tls && !pythonHas("OpenSSL")) {
        return { missing: `${DEBIAN_PYTHON} lacks OpenSSL (apt-get install python3-openssl)` };
      }
      return { bin: DEBIAN_PYTHON };
    }
  }
}

/** Config file(s) and command line for `kind`, written into `l.dir`. */
export async function configure(
  kind: ServerKind,
  bin: string,
  l: Layout,
  opts: RealServerOptions,
): Promise<Launch> {
  if (opts.proftpd?.length && kind !== "proftpd") {
    throw new RangeError(`proftpd directives given for ${kind}`);
  }
  if (opts.vsftpd?.length && kind !== "vsftpd") {
    throw new RangeError(`vsftpd directives given for ${kind}`);
  }
  if (opts.implicitTls && kind !== "vsftpd" && kind !== "proftpd") {
    throw new RangeError(`implicit FTPS is set up for vsftpd and proftpd only, not ${kind}`);
  }
  if (opts.tlsRequired && kind !== "vsftpd" && kind !== "pure-ftpd") {
    throw new RangeError(`tlsRequired is set up for vsftpd and pure-ftpd only, not ${kind}`);
  }
  if (opts.maxPerIp !== undefined && (!Number.isInteger(opts.maxPerIp) || opts.maxPerIp < 1)) {
    throw new RangeError(`maxPerIp must be a positive integer`);
  }
  // Unpacked by .ci/run (`<prefix>/usr/sbin/<kind>`) or installed as a package (prefix "").
  const suffix = `/usr/sbin/${kind}`;
  const prefix = bin.endsWith(suffix) ? bin.slice(0, -suffix.length) : "";
  const libs: Record<string, string> = prefix
    ? { LD_LIBRARY_PATH: `${prefix}/usr/lib/${Deno.build.arch}-linux-gnu` }
    : {};
  switch (kind) {
    case "vsftpd":
      await Deno.writeTextFile(`${l.dir}/vsftpd.conf`, vsftpdConfig(l, opts), { mode: 0o600 });
      return { argv: [bin, `${l.dir}/vsftpd.conf`], logFile: `${l.dir}/vsftpd.log` };
    case "pure-ftpd":
      return {
        argv: [bin, ...await pureFtpdArgs(prefix, l, opts)],
        env: libs,
        logFile: `${l.dir}/xferlog`,
      };
    case "proftpd":
      // mod_auth_file: the hash is in the passwd line itself (ftpasswd format).
      await Deno.writeTextFile(
        `${l.dir}/proftpd.passwd`,
        `${l.user}:${l.passwordHash}:${l.uid}:${l.gid}::${l.root}:/bin/sh\n`,
        { mode: 0o600 },
      );
      await Deno.writeTextFile(`${l.dir}/proftpd.conf`, proftpdConfig(prefix, l, opts), {
        mode: 0o600,
      });
      return {
        argv: [bin, "--nodaemon", "--config", `${l.dir}/proftpd.conf`],
        env: libs,
        logFile: `${l.dir}/commands.log`,
      };
    case "pyftpdlib":
      return {
        argv: [bin, PYFTPDLIB_SCRIPT, JSON.stringify(pyftpdlibOptions(l, opts))],
        logFile: `${l.dir}/pyftpdlib.log`,
      };
  }
}

function vsftpdConfig(l: Layout, opts: RealServerOptions): string {
  const lines = [
    // standalone, foreground, loopback only
    "listen=YES",
    "listen_ipv6=NO",
    `listen_address=${opts.address ?? "127.0.0.1"}`,
    `listen_port=${l.port}`,
    "background=NO",
    // local user login through our own PAM service (see real_server.ts)
    "anonymous_enable=NO",
    "local_enable=YES",
    `pam_service_name=${l.pamService}`,
    "userlist_enable=NO",
    "tcp_wrappers=NO",
    "session_support=NO",
    "chroot_local_user=YES",
    "allow_writeable_chroot=YES",
    `local_root=${l.root}`,
    `secure_chroot_dir=${l.dir}/empty`,
    "nopriv_user=nobody",
    // writes: STOR, APPE, REST+STOR, MKD, RMD, DELE, RNFR/RNTO, SITE CHMOD
    "write_enable=YES",
    "local_umask=022",
    "mdtm_write=YES",
    // data connections
    "pasv_enable=YES",
    "port_enable=YES",
    "connect_from_port_20=NO",
    `pasv_min_port=${l.pasvMin}`,
    `pasv_max_port=${l.pasvMax}`,
    // containers: no seccomp, no per-session namespaces (also faster)
    "seccomp_sandbox=NO",
    "isolate=NO",
    "isolate_network=NO",
    // names are stored as the UTF-8 bytes the client sends; FEAT lists UTF8
    "utf8_filesystem=YES",
    // logs in the temp folder
    "syslog_enable=NO",
    "xferlog_enable=YES",
    `xferlog_file=${l.dir}/xferlog`,
    "dual_log_enable=YES",
    `vsftpd_log_file=${l.dir}/vsftpd.log`,
    "log_ftp_protocol=YES",
    "dirmessage_enable=NO",
  ];
  if (opts.maxPerIp !== undefined) lines.push(`max_per_ip=${opts.maxPerIp}`);
  if (opts.maxRate !== undefined) lines.push(`local_max_rate=${opts.maxRate}`);
  if (opts.tls || opts.implicitTls || opts.tlsRequired) {
    lines.push(
      "ssl_enable=YES",
      `rsa_cert_file=${l.dir}/server.pem`,
      `rsa_private_key_file=${l.dir}/server.key`,
      "allow_anon_ssl=NO",
      "force_local_logins_ssl=NO",
      "force_local_data_ssl=NO",
      "require_ssl_reuse=YES",
      "ssl_ciphers=HIGH",
    );
    if (opts.implicitTls) lines.push("implicit_ssl=YES");
    if (opts.tlsRequired) lines.push("force_local_logins_ssl=YES");
  }
  lines.push(...opts.vsftpd ?? []);
  return lines.join("\n") + "\n";
}

/** pure-ftpd takes everything on the command line; its users come from a PureDB file. */
async function pureFtpdArgs(
  prefix: string,
  l: Layout,
  opts: RealServerOptions,
): Promise<string[]> {
  // PureDB user line: user:hash:uid:gid:gecos:home (`/./` = chroot there):...
  await Deno.writeTextFile(
    `${l.dir}/pureftpd.passwd`,
    `${l.user}:${l.passwordHash}:${l.uid}:${l.gid}::${l.root}/./::::::::::::\n`,
    { mode: 0o600 },
  );
  const purePw = findBinary("pure-pw", [`${prefix}/usr/bin/pure-pw`]);
  if (!purePw) throw new Error("pure-pw not found beside pure-ftpd");
  const mk = await new Deno.Command(purePw, {
    args: ["mkdb", `${l.dir}/pureftpd.pdb`, "-f", `${l.dir}/pureftpd.passwd`],
    stdout: "null",
    stderr: "piped",
  }).output();
  if (!mk.success) throw new Error(`pure-pw mkdb: ${new TextDecoder().decode(mk.stderr)}`);
  const args = [
    "--bind",
    `127.0.0.1,${l.port}`,
    "--login",
    `puredb:${l.dir}/pureftpd.pdb`,
    "--noanonymous",
    "--chrooteveryone",
    "--dontresolve",
    "--passiveportrange",
    `${l.pasvMin}:${l.pasvMax}`,
    "--altlog",
    `clf:${l.dir}/xferlog`,
    // The default (bookworm) answers on a new connection while 50 are in use; plenty here.
    "--maxclientsnumber",
    "200",
  ];
  if (opts.maxPerIp !== undefined) args.push("--maxclientsperip", String(opts.maxPerIp));
  // KiB/s, both directions.
  if (opts.maxRate !== undefined) {
    args.push("--userbandwidth", String(Math.max(1, Math.round(opts.maxRate / 1024))));
  }
  if (opts.tls || opts.tlsRequired) {
    args.push(
      "--tls",
      opts.tlsRequired ? "2" : "1",
      "--certfile",
      `${l.dir}/server.pem,${l.dir}/server.key`,
    );
  }
  return args;
}

function proftpdConfig(prefix: string, l: Layout, opts: RealServerOptions): string {
  const lines = [
    "ServerType standalone",
    'ServerName "ftpbatch test"',
    "DefaultAddress 127.0.0.1",
    "SocketBindTight on",
    `Port ${l.port}`,
    "UseIPv6 off",
    `ModulePath ${prefix}/usr/lib/proftpd`,
    `PidFile ${l.dir}/proftpd.pid`,
    `ScoreboardFile ${l.dir}/proftpd.scoreboard`,
    // The daemon's own user; sessions switch to the logged-in user.
    "User nobody",
    "Group nogroup",
    `AuthUserFile ${l.dir}/proftpd.passwd`,
    `AuthGroupFile ${l.dir}/etc/group`,
    "AuthOrder mod_auth_file.c",
    "RequireValidShell off",
    "DefaultRoot ~",
    "WtmpLog off",
    "UseReverseDNS off",
    // As Debian's packaged proftpd.conf: overwriting allowed, umask 022. AllowStoreRestart is
    // not set there and is off by default: REST is answered 350, then STOR/APPE get 451.
    "AllowOverwrite on",
    "Umask 022 022",
    `PassivePorts ${l.pasvMin} ${l.pasvMax}`,
    `SystemLog ${l.dir}/proftpd.log`,
    `TransferLog ${l.dir}/xferlog`,
    `ExtendedLog ${l.dir}/commands.log ALL`,
    // Default: 1 s; a test server on a loaded machine should not give up on a slow client.
    "TimeoutLogin 60",
  ];
  if (opts.maxPerIp !== undefined) lines.push(`MaxClientsPerHost ${opts.maxPerIp}`);
  if (opts.maxRate !== undefined) {
    lines.push(`TransferRate STOR ${Math.max(1, Math.round(opts.maxRate / 1024))}`);
  }
  if (opts.tls || opts.implicitTls) {
    lines.push(
      "LoadModule mod_tls.c",
      "<IfModule mod_tls.c>",
      "TLSEngine on",
      `TLSLog ${l.dir}/tls.log`,
      `TLSRSACertificateFile ${l.dir}/server.pem`,
      `TLSRSACertificateKeyFile ${l.dir}/server.key`,
      "TLSRequired off",
      "TLSVerifyClient off",
      // Module defaults otherwise: TLS 1.2 and 1.3, data connections must reuse the control
      // connection's TLS session.
      ...opts.implicitTls ? ["TLSOptions UseImplicitSSL"] : [],
      "</IfModule>",
    );
  }
  lines.push(...opts.proftpd ?? []);
  return lines.join("\n") + "\n";
}

function pyftpdlibOptions(l: Layout, opts: RealServerOptions): Record<string, unknown> {
  if (opts.tls && opts.maxRate !== undefined) {
    throw new RangeError("pyftpdlib harness: maxRate and tls together are not supported");
  }
  return {
    port: l.port,
    root: l.root,
    user: l.user,
    password: l.password,
    pasv: [l.pasvMin, l.pasvMax],
    log: `${l.dir}/pyftpdlib.log`,
    ...(opts.maxPerIp !== undefined ? { max_per_ip: opts.maxPerIp } : {}),
    ...(opts.maxRate !== undefined ? { rate: opts.maxRate } : {}),
    ...(opts.tls ? { cert: `${l.dir}/server.pem`, key: `${l.dir}/server.key` } : {}),
    ...(opts.localTimeZone !== undefined ? { tz: opts.localTimeZone } : {}),
  };
}
