/**
 * What a run is given (`RunOptions`) and what it derives from its config
 * before anything moves: the uploaders' settings, how the skip phase reaches
 * the server, the content check of `skip: "hash"`, the report's head, and the
 * run's own files that are never sources.
 *
 * @module
 */

import { posix } from "node:path";
import type { UploadSettings } from "./pool/messages.ts";
import { filesDigest } from "../plan/shard.ts";
import { type Report, type ReportHead, reportHead, type ReportSummary } from "../report/report.ts";
import { type ReportSink, temporaryName } from "../report/report_writer.ts";
import { configDigest } from "../report/config_digest.ts";
import type { WalkHook } from "./sources/walk.ts";
import type { SortedEntries } from "./sources/folder_sources.ts";
import type { RemoteCheckOptions } from "./skip/remote_check.ts";
import { newServerClock } from "../plan/server_clock.ts";
import type { Config } from "../config/types.ts";
import type { RunEvent } from "../report/events.ts";
import { isUtf8 } from "../ftp/encoding.ts";
import { sharedBandwidth } from "../ftp/bandwidth.ts";
import type { ActiveSettings } from "../ftp/active.ts";
import type { FtpLogin } from "../ftp/login.ts";
import { epsvMemory } from "../ftp/passive.ts";
import { ContentSkip } from "./deploy/deploy_manifest.ts";

export interface RunOptions {
  config: Config;
  /** The config's entries as `sortEntries` checked them, where the caller already did. */
  sorted?: SortedEntries;
  /** Resolved password, kept out of every log and report. */
  password?: string;
  dryRun?: boolean;
  /** `--plan`: connect, list and decide like a run, change nothing; report what it would do. */
  plan?: boolean;
  /** Progress lines (stderr in the CLI). */
  log?: (line: string) => void;
  /** Abort with reason "SIGINT" or "SIGTERM" to interrupt the run. */
  signal?: AbortSignal;
  /** Worker module; tests swap in a faulty build. */
  workerUrl?: URL;
  /** Test hook: sees every item the folder walk yields. */
  walkHook?: WalkHook;
  /**
   * What happens as it happens: `run-start`, one `file` per file as soon as it
   * is final (the same entry the report gets), `retry`, `reconnect`, and
   * `progress` a few times a second while workers run. The caller emits `run-end`.
   */
  onEvent?: (event: RunEvent) => void;
  /**
   * Where each file's record goes as soon as it is final (the report file,
   * `ReportWriter`). Without one, the records are kept and returned in
   * `RunOutcome.report.files` (config order): for tests and small runs.
   */
  sink?: ReportSink;
  /**
   * Count the folder sources' files ahead of the walk (a second walk, names
   * and sizes), so `progress` events carry the total early: for a progress
   * line that shows it.
   */
  countAhead?: boolean;
}

export interface RunOutcome {
  /** The report; its `files` are empty when they went to `RunOptions.sink`. */
  report: Report;
  /** Totals and the first problems, for the summary. */
  summary: ReportSummary;
  exitCode: number;
  /** Set when no connection could be made at all (exit 3). */
  connectError?: string;
}

/** The report's head: the server as the report names it, the shard and its digests. */
export async function runHead(
  config: Config,
  startedAt: Date,
  opts: RunOptions,
): Promise<ReportHead> {
  const shard = config.options.shard;
  return reportHead({
    startedAt,
    server: {
      host: config.server.host,
      port: config.server.port,
      user: config.server.user ?? "anonymous",
      secure: config.server.secure,
      ...(isUtf8(config.server.encoding) ? {} : { encoding: config.server.encoding }),
    },
    dryRun: opts.dryRun,
    plan: opts.plan,
    ...(shard
      ? {
        shard: {
          ...shard,
          digest: await filesDigest(config.files),
          config: await configDigest(config),
        },
      }
      : {}),
  });
}

/**
 * How any connection of the run logs in and opens data connections, from
 * `server`: the uploads' and the deploy steps' (the remote lock lists its
 * folder, so PASV-only and active mode apply to it too).
 */
export function serverLogin(config: Config, password: string | undefined): FtpLogin {
  const { server } = config;
  return {
    host: server.host,
    port: server.port,
    user: server.user,
    password,
    secure: server.secure,
    encoding: server.encoding,
    // PASV only (`server.epsv`), or learned once for the run (`ftp/passive.ts`).
    ...(server.epsv === false ? { epsv: false } : { epsvLearned: epsvMemory() }),
    ...(server.active ? { active: activeSettings(server) } : {}),
  };
}

/** `skip: "hash"` (not in a dry run): the content check and the deploy manifest. */
export function contentSkip(opts: RunOptions, settings: UploadSettings): ContentSkip | undefined {
  const { config } = opts;
  if (config.options.skip !== "hash" || opts.dryRun) return undefined;
  return new ContentSkip({
    login: settings.server,
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    roots: config.files.map((f) => f.tree ? f.destination : posix.dirname(f.destination)),
    shard: config.options.shard,
    readOnly: Boolean(opts.plan),
    log: opts.log,
  });
}

/** How the skip phase and the skip filter reach the server and decide. */
export function remoteOptions(
  opts: RunOptions,
  settings: UploadSettings,
  content: ContentSkip | undefined,
): Omit<RemoteCheckOptions, "jobs" | "connections"> {
  return {
    rule: opts.config.options.skip,
    // A plan writes nothing: not even the time probe's empty file.
    ...(opts.plan ? { readOnly: true } : {}),
    ...(content ? { content } : {}),
    login: settings.server,
    timeoutMs: settings.timeoutMs,
    retries: settings.retries,
    backoffBaseMs: settings.backoffBaseMs,
    backoffMaxMs: settings.backoffMaxMs,
    log: opts.log,
    signal: opts.signal,
    // One per run: the server's time zones are learned once, by the first check that needs them.
    clock: newServerClock(opts.config.server.listTimeZone),
  };
}

/** The run's own files (report, lock, and the report's temporary name): never sources. */
export function outputsOf(config: Config): Set<string> {
  const { report, lock } = config.options;
  const paths = [report, lock].filter((p) => p !== undefined);
  if (report) paths.push(temporaryName(report));
  return new Set(paths);
}

/** `server.active` with its NAT keys, for the FTP layer (`ftp/active.ts`). */
function activeSettings(server: Config["server"]): ActiveSettings {
  return {
    ...(server.activeAddress ? { address: server.activeAddress } : {}),
    ...(server.activePorts ? { ports: server.activePorts } : {}),
  };
}

/** What every uploader is told at start. */
export function uploadSettings(opts: RunOptions): UploadSettings {
  const { options } = opts.config;
  return {
    server: {
      ...serverLogin(opts.config, opts.password),
      // One limit for all connections: the workers share its bucket (`ftp/bandwidth.ts`).
      ...(options.bwlimit ? { bandwidth: sharedBandwidth(options.bwlimit) } : {}),
    },
    retries: options.retries,
    atomic: options.atomic,
    verify: options.verify,
    backoffBaseMs: options.backoffBaseMs,
    backoffMaxMs: options.backoffMaxMs,
    timeoutMs: options.timeoutMs,
  };
}
