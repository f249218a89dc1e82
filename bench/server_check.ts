/**
 * What the benchmark checks on the server side: the tree after a run (paths,
 * sizes, sha256 of a sample), emptying the root between runs, and the FTP
 * commands each run sent (from vsftpd's protocol log).
 *
 * @module
 */

import { sha256 } from "../tests/helpers/dataset.ts";
import type { DataSet } from "./datasets.ts";

/** Every regular file below `root`: relative POSIX path (NFC) -> size. */
export async function listFiles(root: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const walk = async (rel: string) => {
    for await (const e of Deno.readDir(rel ? `${root}/${rel}` : root)) {
      const path = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory) await walk(path);
      else if (e.isFile) out.set(path.normalize("NFC"), (await Deno.lstat(`${root}/${path}`)).size);
      else out.set(path.normalize("NFC"), -1);
    }
  };
  await walk("");
  return out;
}

/**
 * Problems with the server tree after uploading `set` (empty = all good):
 * missing files, wrong sizes, extra files (leftover temporary names count),
 * and sha256 mismatches among `sample`.
 */
export async function verifyTree(
  root: string,
  set: DataSet,
  sample: { rel: string; sha256: string }[],
): Promise<string[]> {
  const problems: string[] = [];
  const found = await listFiles(root);
  let missing = 0, wrongSize = 0;
  for (const f of set.files) {
    const size = found.get(f.rel);
    if (size === undefined) {
      if (missing++ < 3) problems.push(`missing ${f.rel}`);
    } else if (size !== f.size) {
      if (wrongSize++ < 3) problems.push(`${f.rel}: ${size} bytes, expected ${f.size}`);
    }
    found.delete(f.rel);
  }
  if (missing > 3) problems.push(`... ${missing} files missing in all`);
  if (wrongSize > 3) problems.push(`... ${wrongSize} files of the wrong size in all`);
  if (found.size > 0) {
    const extra = [...found.keys()];
    problems.push(
      `${extra.length} unexpected file(s) on the server: ${extra.slice(0, 3).join(", ")}`,
    );
  }
  if (problems.length === 0) {
    for (const s of sample) {
      const got = await sha256(`${root}/${s.rel}`);
      if (got !== s.sha256) problems.push(`${s.rel}: sha256 ${got}, expected ${s.sha256}`);
    }
  }
  return problems;
}

/** Removes everything below `root`, keeping `root` itself (the FTP user owns it). */
export async function emptyRoot(root: string): Promise<void> {
  const names: string[] = [];
  for await (const e of Deno.readDir(root)) names.push(e.name);
  await Promise.all(names.map((n) => Deno.remove(`${root}/${n}`, { recursive: true })));
}

/** Reads what vsftpd appended to its protocol log since a mark. */
export class LogCursor {
  constructor(readonly path: string) {}

  async mark(): Promise<number> {
    try {
      return (await Deno.stat(this.path)).size;
    } catch {
      return 0;
    }
  }

  async since(offset: number): Promise<string> {
    using file = await Deno.open(this.path, { read: true });
    const size = (await file.stat()).size;
    if (size <= offset) return "";
    await file.seek(offset, Deno.SeekMode.Start);
    const buf = new Uint8Array(size - offset);
    let got = 0;
    while (got < buf.length) {
      const n = await file.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    return new TextDecoder().decode(buf.subarray(0, got));
  }
}

/** FTP commands per verb, plus control connections, from a slice of vsftpd's log. */
export function countCommands(
  log: string,
): { connections: number; commands: Record<string, number> } {
  const commands: Record<string, number> = {};
  let connections = 0;
  for (const line of log.split("\n")) {
    if (line.includes("] CONNECT: Client")) {
      connections++;
      continue;
    }
    const m = line.match(/FTP command: Client "[^"]*", "([A-Za-z]+)/);
    if (m) {
      const verb = m[1].toUpperCase();
      commands[verb] = (commands[verb] ?? 0) + 1;
    }
  }
  return { connections, commands };
}

/**
 * The paths of the STOR commands in a slice of vsftpd's log, in order (and APPE's: ftpbatch
 * sends a large new file with APPE on vsftpd, `src/ftp/store.ts`).
 */
export function storedPaths(log: string): string[] {
  const out: string[] = [];
  const re = /FTP command: Client "[^"]*", "(?:STOR|APPE) ([^"\n]*)"/gi;
  for (const m of log.matchAll(re)) out.push(m[1]);
  return out;
}

/**
 * ftpbatch's probe of whether the server sets times (`src/run/skip/remote_state.ts`): a
 * temporary name no destination may have, removed after. A STOR of it is not a file sent.
 */
export function isTimeProbe(path: string): boolean {
  return /(^|\/)\.ftpbatch-time-probe\.ftpbatch-[^/]*\.part$/.test(path);
}

/**
 * Watches the log from `from` for the first line matching each of
 * `patterns` (whole lines only), polling every `everyMs`, until the last one
 * is seen or `stop()` is called. Times are seconds from `t0` (a
 * `performance.now()` value) to when the line was first seen. `found`
 * resolves with the time of the pattern named `until` (default: the last).
 */
export function watchLog(
  cursor: LogCursor,
  from: number,
  patterns: Record<string, RegExp>,
  t0: number,
  opts: { everyMs?: number; until?: string } = {},
): { found: Promise<number>; stop: () => Promise<Record<string, number>> } {
  const names = Object.keys(patterns);
  const until = opts.until ?? names[names.length - 1];
  let running = true;
  const seen: Record<string, number> = {};
  let resolveFound!: (s: number) => void;
  const found = new Promise<number>((r) => (resolveFound = r));
  const enc = new TextEncoder();
  const loop = (async () => {
    let offset = from;
    while (running) {
      const more = await cursor.since(offset).catch(() => "");
      const cut = more.lastIndexOf("\n") + 1;
      const lines = more.slice(0, cut);
      const now = (performance.now() - t0) / 1000;
      for (const n of names) {
        if (seen[n] === undefined && patterns[n].test(lines)) seen[n] = now;
      }
      if (seen[until] !== undefined) {
        resolveFound(seen[until]);
        return;
      }
      offset += enc.encode(lines).length;
      await new Promise((r) => setTimeout(r, opts.everyMs ?? 5));
    }
  })();
  return {
    found,
    async stop() {
      running = false;
      await loop;
      return seen;
    },
  };
}

/** Milestones of a run in vsftpd's protocol log: first connection, first MKD, first STOR. */
export const MILESTONES: Record<string, RegExp> = {
  connect: /\] CONNECT: Client/,
  login: /\] OK LOGIN: Client/,
  mkd: /FTP command: Client "[^"]*", "MKD /,
  stor: /FTP command: Client "[^"]*", "(?:STOR|APPE) /,
};
