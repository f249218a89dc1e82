/**
 * The validated config's shapes and the defaults of its options.
 *
 * @module
 */

/** `false` = plain FTP, `true` = explicit FTPS (AUTH TLS), `"implicit"` = implicit FTPS. */
export type Secure = boolean | "implicit";

/** Server section of a validated config. The password is not resolved yet. */
export interface ServerConfig {
  host: string;
  port: number;
  /** Absent means anonymous. */
  user?: string;
  password?: string;
  /** Name of the environment variable that holds the password. */
  passwordEnv?: string;
  secure: Secure;
  /**
   * The character encoding the server keeps names in: `utf8` (the default) or a
   * legacy code page such as `cp1251`, `koi8-r`, `gbk`, `shift_jis`.
   */
  encoding: string;
  /** Active mode: the server connects to this machine for data (EPRT, then PORT). */
  active?: boolean;
  /** Active mode behind NAT: the address the server is told to connect to. */
  activeAddress?: string;
  /** Active mode: the local ports to listen on, [first, last] (a firewall's opening). */
  activePorts?: [number, number];
  /** `false`: PASV only, never EPSV (a middlebox that breaks EPSV). */
  epsv?: boolean;
  /**
   * The time zone of the server's LIST times: `"UTC"` or an offset like
   * `"+05:00"`. Absent (`"auto"`): learned once per run from one file's MDTM.
   */
  listTimeZone?: string;
}

/** How a run behaves; every field has a default. Command-line flags override these. */
export interface Options {
  /** Parallel connections (Web Workers). */
  workers: number;
  /** Retries per file after the first attempt. */
  retries: number;
  /** Report file path, absolute (resolved against the config folder). */
  report?: string;
  /** Lock file path, absolute (resolved against the config folder): one run at a time. */
  lock?: string;
  /** Upload to a temporary name and rename after verification. */
  atomic: boolean;
  /** `size` compares SIZE; `hash` also compares a server hash where one is offered. */
  verify: "size" | "hash";
  /** What counts as already on the server, so not sent (see `plan/skip.ts`). */
  skip: SkipRule;
  /** First reconnect delay; doubles up to `backoffMaxMs`, with jitter. */
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** Socket inactivity timeout for control and data connections. */
  timeoutMs: number;
  /** Upload rate limit over all connections, bytes per second (`--bwlimit`). */
  bwlimit?: number;
  /** Take only this shard's files (`--shard K/N` or the environment; see `plan/shard.ts`). */
  shard?: Shard;
  /**
   * Most remote paths mirror deletions (`"delete": true`) may remove in one run; over it
   * nothing is deleted (exit 5). Absent: at most half of what each destination holds.
   */
  maxDelete?: number;
  /**
   * A lock folder on the server (`--remote-lock`): one deploy at a time across machines.
   * The remote folder path; `true`: `.ftpbatch-lock` in the folder all destinations share.
   */
  remoteLock?: string | true;
  /** Age after which `--break-remote-lock` may break another run's remote lock (default 1 h). */
  remoteLockTtlMs?: number;
}

/**
 * `"size+mtime"`: skip a file whose remote copy has the same size and
 * modification time; `"size+newer"`: also one whose same-size remote copy is
 * at least as new (opt-in, for servers that cannot set times); `"size"`: the
 * same size is enough; `"none"`: send all; `"hash"`: the same content (a server
 * hash command, else the deploy manifest, see `plan/manifest.ts`), whatever the
 * times say.
 */
export type SkipRule = "size+mtime" | "size+newer" | "size" | "none" | "hash";

export const SKIP_RULES: readonly SkipRule[] = [
  "size+mtime",
  "size+newer",
  "size",
  "none",
  "hash",
];

/** Shard `index` of `count` (0-based): one of several runs that split one config. */
export interface Shard {
  index: number;
  count: number;
}

/** One `files[i]` entry after validation and path resolution. */
export interface FileEntry {
  /** Position in the config's `files` array, for error messages (`files[3]`). */
  index: number;
  /** Absolute local path. */
  source: string;
  /**
   * Absolute remote path (POSIX, NFC): for a file source the file's name, for
   * a folder source the remote folder its tree goes under.
   */
  destination: string;
  /**
   * Where the tree goes if the source turns out to be a folder, when that
   * differs from `destination` (`"/in/"` for a source `a` is the file
   * `/in/a` but the folder `/in`). Absent: `destination`.
   */
  folderDestination?: string;
  /** Set when the entry says it is a folder (`include`, `exclude`, `followSymlinks`, or a source ending in "/"). */
  tree?: TreeOptions;
  /**
   * Why the destination cannot be sent to this server: a character the server's
   * code page (`server.encoding`) lacks. The file fails without being sent; the run goes on.
   */
  unencodable?: string;
}

/** How a folder source is walked (see `run/sources/walk.ts`). */
export interface TreeOptions {
  /** Globs on the path relative to the folder (POSIX); none: every file. */
  include: string[];
  /** Globs that leave files out and folders unvisited; exclude wins over include. */
  exclude: string[];
  followSymlinks: boolean;
  /** Set by `"delete": true`: mirror deletions after a clean run, `keep` globs protected. */
  mirror?: { keep: string[] };
  /** Which of the keys the config gave, to name in errors (`include`, `exclude`, `followSymlinks`, or `source` for a trailing "/"). */
  declaredBy: string;
}

/** A validated config. */
export interface Config {
  /** Absolute path of the config file, or `<inline>`. */
  configPath: string;
  server: ServerConfig;
  options: Options;
  files: FileEntry[];
}

export const DEFAULT_OPTIONS: Readonly<
  Omit<Options, "report" | "lock" | "maxDelete" | "remoteLock" | "remoteLockTtlMs">
> = {
  workers: 4,
  retries: 5,
  atomic: true,
  verify: "size",
  skip: "size+mtime",
  backoffBaseMs: 1000,
  backoffMaxMs: 30000,
  timeoutMs: 30000,
};

/** `options.remoteLockTtlMs` when the config gives none. */
export const DEFAULT_REMOTE_LOCK_TTL_MS = 3_600_000;
