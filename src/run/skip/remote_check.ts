/**
 * The skip phase of a run, before any file is sent: reads what the server
 * already has in each destination folder (one MLSD or LIST per folder, a few
 * connections in parallel, per-file questions only where a folder cannot be
 * listed) and drops the files whose remote copy is unchanged (`plan/skip.ts`).
 * It runs inside the first upload worker, on its login (`worker_check.ts`),
 * or on a connection of its own (`--plan`, `--skip hash`, that worker lost).
 * A re-run with nothing changed costs one login and a listing per folder, and
 * uses no other upload worker.
 *
 * This phase never fails a file: when it cannot do its work (no connection,
 * retries run out) every file is sent, and the pool meets the problem again
 * and reports it as it always does.
 *
 * @module
 */

import * as posix from "../../ftp/posix_path.ts";
import type { FtpLogin } from "../../ftp/login.ts";
import type { Listing } from "../../ftp/listing.ts";
import { errorText, safeText } from "../../ftp/server_text.ts";
import type { SkipRule } from "../../config/types.ts";
import { planSkips } from "../../plan/skip.ts";
import { newServerClock, type ServerClock } from "../../plan/server_clock.ts";
import { settleClock } from "./skip_clock.ts";
import { SkipLink } from "./skip_link.ts";
import type { UploadJob } from "../../upload/job.ts";
import type { Session } from "../../ftp/session.ts";
import { toConnectError } from "../../upload/retry.ts";
import {
  type FolderRequest,
  type FolderState,
  readFolder,
  type SessionRunner,
} from "./remote_state.ts";

export interface RemoteCheckOptions {
  jobs: UploadJob[];
  rule: SkipRule;
  login: FtpLogin;
  timeoutMs: number;
  /** Reconnects allowed per operation after a lost connection. */
  retries: number;
  /** The pause before a reconnect (none when absent). */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Most connections to read with at once. */
  connections: number;
  log?: (line: string) => void;
  signal?: AbortSignal;
  /**
   * Called once a destination folder is found missing: some files will be sent. `alone`:
   * the check reads over one connection only, and (`oneOnceMissing`) will go on so.
   */
  onMissing?: (alone: boolean) => void;
  /**
   * Once a folder is found missing, open no further connection: the upload workers log
   * in meanwhile (`worker_check.ts`), and together they keep within `connections`.
   */
  oneOnceMissing?: boolean;
  /** What the run knows of the server's clocks, shared by its checks (absent: this check's own). */
  clock?: ServerClock;
  /** Change nothing on the server (`--plan`): no time probe; times are compared as they are. */
  readOnly?: boolean;
  /**
   * Rule `"hash"`: decides, of the files the size rule would skip, which have the server's
   * content (`deploy_manifest.ts`).
   */
  content?: ContentDecider;
  /**
   * Read over this connection first (an upload worker's own login, `worker_check.ts`):
   * no login of the check's own; further connections, when worth it, log in as usual.
   */
  own?: () => Promise<Session>;
}

/** See `RemoteCheckOptions.content`. */
export interface ContentDecider {
  decide(
    candidates: { job: UploadJob; reason: string }[],
    listings: ReadonlyMap<string, Listing>,
    run: SessionRunner,
  ): Promise<{ skipped: { job: UploadJob; reason: string }[]; send: UploadJob[] }>;
}

export interface RemoteCheck {
  /** The jobs to send, in their order. */
  send: UploadJob[];
  /** Jobs not sent, with the reason (`"unchanged: size+mtime"`). */
  skipped: { job: UploadJob; reason: string }[];
  /** Said once in the report. */
  notes: string[];
  /**
   * The login was refused for good (wrong password, untrusted certificate): the
   * run stops here, as the pool would after its own try, without a second try
   * (a second failed login per run would count twice against lockout rules).
   */
  loginRefused?: string;
}

/** The size rule's rule for `"hash"` (it finds the candidates), else the rule itself. */
export function candidateRule(rule: SkipRule): Exclude<SkipRule, "hash"> {
  return rule === "hash" ? "size" : rule;
}

/**
 * Rule `"hash"`: of the jobs the size rule skipped, only those `o.content` finds
 * unchanged stay skipped (without a decider, all are sent). Other rules: `plan` as is.
 */
export async function byContent(
  o: Pick<RemoteCheckOptions, "rule" | "content">,
  jobs: readonly UploadJob[],
  plan: { send: UploadJob[]; skipped: { job: UploadJob; reason: string }[] },
  listings: ReadonlyMap<string, Listing>,
  run: SessionRunner,
): Promise<{ send: UploadJob[]; skipped: { job: UploadJob; reason: string }[] }> {
  if (o.rule !== "hash") return plan;
  const decided = o.content
    ? await o.content.decide(plan.skipped, listings, run)
    : { skipped: [], send: plan.skipped.map((s) => s.job) };
  const send = new Set([...plan.send, ...decided.send]);
  return { send: jobs.filter((j) => send.has(j)), skipped: decided.skipped };
}

/** Folders per connection before another connection is worth its login. */
const FOLDERS_PER_CONNECTION = 16;

/** Reads the destination folders and splits the jobs into those to send and those to skip. */
export async function checkRemote(o: RemoteCheckOptions): Promise<RemoteCheck> {
  const everything: RemoteCheck = { send: o.jobs, skipped: [], notes: [] };
  if (o.rule === "none" || o.jobs.length === 0) return everything;
  const requests = folderRequests(o.jobs);
  const want = Math.ceil(requests.length / FOLDERS_PER_CONNECTION);
  const links: SkipLink[] = Array.from(
    { length: Math.max(1, Math.min(o.connections, want)) },
    (_, i) => new SkipLink(i === 0 && o.own ? { ...o, session: o.own } : o),
  );
  try {
    // One login first. A server that cannot be reached is the pool's to report (once, after
    // its retries): said here too, it would be said twice.
    await links[0].run(() => Promise.resolve());
  } catch (e) {
    const refused = toConnectError(e, (err) => describe(err, o.login.password));
    const final = refused.kind === "auth" || refused.kind === "certificate" ||
      refused.kind === "notFtp";
    return final ? { ...everything, loginRefused: refused.message } : everything;
  }
  try {
    const states = await readAll(links, requests, o);
    if (!states) return everything;
    const listings = new Map<string, Listing>(states.map((s) => [s.dir, new Map(s.entries)]));
    const clock = o.clock ?? newServerClock();
    // "hash": the size rule finds the candidates, the content decides (times do not matter).
    const rule = candidateRule(o.rule);
    const notes = await settleClock({
      run: links[0].runner,
      features: () => links[0].features(),
      listings,
      jobs: o.jobs,
      rule,
      clock,
      ...(o.readOnly ? { readOnly: true } : {}),
      secrets: [o.login.password],
    });
    const plan = await byContent(
      o,
      o.jobs,
      planSkips(o.jobs, listings, rule, { clock }),
      listings,
      links[0].runner,
    );
    const perFile = states.filter((s) => s.how === "per file");
    if (perFile.length > 0) {
      o.log?.(
        `${perFile.length} folder(s) could not be listed (${
          safeText(perFile[0].listError ?? "", [o.login.password])
        }); their files were checked one by one`,
      );
    }
    return {
      send: plan.send,
      skipped: plan.skipped,
      notes,
    };
  } catch (e) {
    o.log?.(
      `could not check what is on the server (${
        describe(e, o.login.password)
      }): every file is sent`,
    );
    return everything;
  } finally {
    await Promise.all(links.map((l) => l.close()));
  }
}

/** The names to look for in each destination folder, folders in the order first met. */
export function namesByFolder(jobs: UploadJob[]): Map<string, string[]> {
  const byDir = new Map<string, string[]>();
  for (const j of jobs) {
    const dir = posix.dirname(j.destination);
    let names = byDir.get(dir);
    if (!names) byDir.set(dir, names = []);
    names.push(posix.basename(j.destination));
  }
  return byDir;
}

/** One request per destination folder, parents before children. */
function folderRequests(jobs: UploadJob[]): FolderRequest[] {
  return [...namesByFolder(jobs)].map(([dir, names]) => ({ dir, names }))
    .sort((a, b) => depth(a.dir) - depth(b.dir) || (a.dir < b.dir ? -1 : 1));
}

/**
 * Reads every folder over the links, parents first. The folders above one
 * are checked first (one CWD each, once): below a folder that is not there,
 * nothing is asked. The other links log in only once the first finds a folder
 * that is there: a first run to an empty server costs one login and a CWD or
 * two. With `oneOnceMissing` none opens once a folder was found missing (the
 * upload workers are logging in by then). `undefined` when interrupted.
 */
async function readAll(
  links: SkipLink[],
  requests: FolderRequest[],
  o: Pick<RemoteCheckOptions, "signal" | "onMissing" | "oneOnceMissing">,
): Promise<FolderState[] | undefined> {
  const { signal, onMissing } = o;
  const states: FolderState[] = [];
  const exists = new Map<string, boolean>();
  const above = async (link: SkipLink, dir: string): Promise<boolean> => {
    for (const a of ancestors(dir).reverse()) {
      let there = exists.get(a);
      if (there === undefined) exists.set(a, there = await link.run((s) => s.isDir(a)));
      if (!there) return false;
    }
    return true;
  };
  let next = 0;
  let others: Promise<void>[] | undefined;
  let missing = false;
  const lane = async (link: SkipLink) => {
    while (next < requests.length && !signal?.aborted) {
      const req = requests[next++];
      const state: FolderState = await above(link, req.dir)
        ? await readFolder(link.runner, req)
        : { dir: req.dir, entries: [], how: "absent" };
      exists.set(req.dir, state.how !== "absent");
      if (state.how === "absent") {
        missing = true;
        onMissing?.(others === undefined && (o.oneOnceMissing === true || links.length === 1));
      } else if (!(missing && o.oneOnceMissing)) others ??= links.slice(1).map(lane);
      states.push(state);
    }
  };
  await lane(links[0]);
  await Promise.all(others ?? []);
  return signal?.aborted ? undefined : states;
}

/** The folders above `dir`, "/" excluded. */
function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = posix.dirname(dir); d !== "/" && d !== "."; d = posix.dirname(d)) out.push(d);
  return out;
}

function depth(path: string): number {
  return path === "/" ? 0 : path.split("/").length - 1;
}

/** One line, made safe; the password kept out of server text (servers echo what they got). */
function describe(e: unknown, password?: string): string {
  return errorText(e, [password]);
}
