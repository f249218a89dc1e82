/**
 * `skip: "hash"`: a file is unchanged when its content equals what is on the
 * server, whatever the times say (a CI checkout gives every file a new one).
 *
 * - Where the server offers a hash command (XSHA256, XSHA1, XMD5, HASH), the
 *   server's digest of the remote file is compared with the local file's.
 * - Elsewhere the deploy manifest (`plan/manifest.ts`) says what content was
 *   sent; an entry counts only while the listing still shows the size and
 *   time it recorded. After each upload the local file is hashed (streamed,
 *   a few at a time, beside the uploads) and its entry recorded with the size
 *   and time the server then lists; the manifest is written (a temporary name,
 *   then a rename) every few hundred files or tens of seconds and at the end,
 *   so an interrupted first deploy keeps what it did.
 *
 * Only files the size rule would skip are hashed before deciding: a file of
 * another size is sent without reading it twice.
 *
 * @module
 */

import { posix } from "node:path";
import type { Listing, RemoteEntry } from "../../ftp/listing.ts";
import type { Session } from "../../ftp/session.ts";
import { safeText } from "../../ftp/server_text.ts";
import { remoteEntryOf } from "../../plan/skip.ts";
import {
  entryHolds,
  type Manifest,
  manifestName,
  ManifestRoots,
  parseManifest,
  serializeManifest,
} from "../../plan/manifest.ts";
import type { UploadJob } from "../../upload/job.ts";
import { DeployLink, type LinkOptions } from "./deploy_link.ts";
import { algorithmForLength, Gate, hashFile } from "./local_hash.ts";
import type { Shard } from "../../config/types.ts";
import type { SkipFilter } from "../sources/folder_jobs.ts";

/** Hash commands whose digest a local hash can match (XCRC cannot be trusted for this). */
const USABLE_HASH = new Set(["XSHA256", "XSHA1", "XMD5", "HASH"]);
/** Checkpoint after this many recorded files, or this long. */
const CHECKPOINT_FILES = 300;
const CHECKPOINT_MS = 30_000;
const MAX_MANIFEST_BYTES = 512 * 1024 * 1024;

type Runner = <T>(op: (s: Session) => Promise<T>) => Promise<T>;

export interface ContentSkipOptions extends LinkOptions {
  /** Every destination root (folder entries' remote folders, listed files' folders). */
  roots: Iterable<string>;
  shard?: Shard;
  /** `--plan`: read manifests, write none. */
  readOnly: boolean;
  /** Checkpoint after this many recorded files (default 300) or this long (default 30 s). */
  checkpointFiles?: number;
  checkpointMs?: number;
  log?: (line: string) => void;
}

interface Pending {
  destination: string;
  /** Undefined: forget the entry (the upload failed, or the file was deleted). */
  sha256?: string;
  size?: number;
}

export class ContentSkip {
  readonly roots: ManifestRoots;
  readonly notes: string[] = [];
  #name: string;
  #link: DeployLink;
  /** One command at a time on the manifest's own connection. */
  #one = new Gate(1);
  #hashing = new Gate(3);
  #manifests = new Map<string, Promise<Manifest>>();
  #dirty = new Set<string>();
  #expected = new Map<number, UploadJob>();
  #pending: Pending[] = [];
  #tasks = new Set<Promise<void>>();
  #lastCheckpoint = Date.now();
  #checkpoint?: Promise<void>;
  /** The server's usable hash command, once known (`null`: none). */
  #serverHash?: string | null;

  constructor(readonly o: ContentSkipOptions) {
    this.roots = new ManifestRoots(o.roots);
    this.#name = manifestName(o.shard);
    this.#link = new DeployLink(o);
  }

  /**
   * Of the jobs the size rule skipped, those whose content is the server's stay
   * skipped (with the reason); the others go to `send`.
   */
  async decide(
    candidates: { job: UploadJob; reason: string }[],
    listings: ReadonlyMap<string, Listing>,
    run: Runner,
  ): Promise<{ skipped: { job: UploadJob; reason: string }[]; send: UploadJob[] }> {
    const out = { skipped: [] as { job: UploadJob; reason: string }[], send: [] as UploadJob[] };
    if (candidates.length === 0) return out;
    const command = await run((s) => Promise.resolve(s.abilities.hash));
    this.#serverHash ??= command && USABLE_HASH.has(command) ? command : null;
    // One command at a time on the check's connection; the local hashes go on beside.
    const one = new Gate(1);
    const serial: Runner = (op) => one.run(() => run(op));
    await Promise.all(candidates.map(async ({ job }) => {
      const remote = remoteEntryOf(listings, job.destination);
      const reason = await this.#hashPath(job, serial) ?? await this.#manifestPath(job, remote);
      if (reason) out.skipped.push({ job, reason });
      else out.send.push(job);
    }));
    // The jobs' order (the pool's largest-first) is kept.
    const order = new Map(candidates.map((c, i) => [c.job.id, i]));
    out.send.sort((a, b) => order.get(a.id)! - order.get(b.id)!);
    return out;
  }

  /** With the server's hash command: the reason when equal, "" when not, undefined: cannot tell. */
  async #hashPath(job: UploadJob, run: Runner): Promise<string | undefined> {
    if (!this.#serverHash) return undefined;
    const remote = await run((s) => s.hash(job.destination)).catch(() => undefined);
    const algorithm = remote ? algorithmForLength(remote.length) : undefined;
    if (!remote || !algorithm) return undefined;
    const local = await this.#hashing.run(() => hashFile(job.source, algorithm));
    return local === remote ? `unchanged: content (${this.#serverHash})` : "";
  }

  async #manifestPath(job: UploadJob, remote: RemoteEntry | undefined): Promise<string> {
    const root = this.roots.rootOf(job.destination);
    if (!root) return "";
    const entry = (await this.#manifest(root)).get(this.roots.relOf(root, job.destination));
    if (!entry || entry.size !== job.size || !entryHolds(entry, remote)) return "";
    const local = await this.#hashing.run(() => hashFile(job.source)).catch(() => undefined);
    return local === entry.sha256 ? "unchanged: content (sha256 in the deploy manifest)" : "";
  }

  #manifest(root: string): Promise<Manifest> {
    let m = this.#manifests.get(root);
    if (!m) {
      const path = posix.join(root, this.#name);
      m = this.#one.run(() => this.#link.run((s) => s.retrieve(path, MAX_MANIFEST_BYTES)))
        .then((bytes) => bytes ? parseManifest(bytes) : new Map(), (e) => {
          this.#note(
            `the deploy manifest ${path} could not be read (${e.message}); ` +
              `its files are compared as new`,
          );
          return new Map();
        });
      this.#manifests.set(root, m);
    }
    return m;
  }

  /** `inner` (the folder jobs' skip filter) with the jobs it lets through expected. */
  filter(inner: SkipFilter): SkipFilter {
    const filter = async (jobs: UploadJob[]) => {
      const r = await inner(jobs);
      this.expect(r.send);
      return r;
    };
    return inner.close ? Object.assign(filter, { close: inner.close }) : filter;
  }

  /** These jobs are about to be sent: their results will be recorded. */
  expect(jobs: readonly UploadJob[]): void {
    if (this.o.readOnly) return;
    for (const j of jobs) this.#expected.set(j.id, j);
  }

  /** A job's final result: an uploaded file is hashed and recorded; a failed one forgotten. */
  settled(id: number, status: string): void {
    const job = this.#expected.get(id);
    if (!job) return;
    this.#expected.delete(id);
    if (status !== "uploaded") return this.forget(job.destination);
    const task = this.#hashing.run(async () => {
      const sha256 = await hashFile(job.source);
      // Changed since it was sent: its entry would describe other bytes.
      const st = await Deno.stat(job.source);
      const same = st.size === job.size && st.mtime?.getTime() === job.mtimeMs;
      this.#pending.push(
        same ? { destination: job.destination, sha256, size: job.size } : {
          destination: job.destination,
        },
      );
    }).catch(() => this.#pending.push({ destination: job.destination })).then(() => this.#due());
    this.#tasks.add(task);
    task.finally(() => this.#tasks.delete(task));
  }

  /** The remote file is gone or not what an entry says (a deletion, a failed upload). */
  forget(destination: string): void {
    if (this.o.readOnly || !this.roots.rootOf(destination)) return;
    this.#pending.push({ destination });
  }

  #due(): void {
    const now = Date.now();
    if (this.#checkpoint) return;
    const files = this.o.checkpointFiles ?? CHECKPOINT_FILES;
    const ms = this.o.checkpointMs ?? CHECKPOINT_MS;
    if (this.#pending.length < files && now - this.#lastCheckpoint < ms) return;
    this.#checkpoint = this.#write().finally(() => {
      this.#checkpoint = undefined;
      this.#lastCheckpoint = Date.now();
    });
  }

  /** The checkpoint under way, if any (tests wait for it). */
  get checkpointing(): Promise<void> | undefined {
    return this.#checkpoint;
  }

  /** The last write, once every hash is in; the manifest connection closes. */
  async close(): Promise<void> {
    if (!this.o.readOnly) {
      while (this.#tasks.size > 0) await Promise.all([...this.#tasks]);
      await this.#checkpoint;
      await this.#write();
    }
    await this.#link.close();
  }

  /** Applies what is pending (with the sizes and times listed now) and writes changed manifests. */
  async #write(): Promise<void> {
    const pending = this.#pending.splice(0);
    try {
      if (pending.length === 0 && this.#dirty.size === 0) return;
      if (this.#serverHash === undefined) {
        const command = await this.#one.run(() =>
          this.#link.run((s) => Promise.resolve(s.abilities.hash))
        );
        this.#serverHash = command && USABLE_HASH.has(command) ? command : null;
      }
      if (this.#serverHash) return; // the server's own hashes decide: no manifest needed
      await this.#apply(pending);
      for (const root of [...this.#dirty]) {
        this.#dirty.delete(root);
        await this.#one.run(() => this.#store(root));
      }
    } catch (e) {
      this.#note(
        `the deploy manifest could not be written (${(e as Error).message}); ` +
          `the next run with skip hash sends the files it lacks`,
      );
    }
  }

  async #apply(pending: Pending[]): Promise<void> {
    const byDir = new Map<string, Pending[]>();
    for (const p of pending) {
      const dir = posix.dirname(p.destination);
      byDir.set(dir, [...(byDir.get(dir) ?? []), p]);
    }
    for (const [dir, items] of byDir) {
      const listing = items.some((p) => p.sha256)
        ? await this.#one.run(() => this.#link.run((s) => s.list(dir)))
        : undefined;
      for (const p of items) {
        const root = this.roots.rootOf(p.destination)!;
        const manifest = await this.#manifest(root);
        const rel = this.roots.relOf(root, p.destination);
        const remote = listing?.get(posix.basename(p.destination));
        this.#dirty.add(root);
        if (!p.sha256 || remote?.type !== "file" || remote.size !== p.size) {
          manifest.delete(rel);
          continue;
        }
        manifest.set(rel, {
          sha256: p.sha256,
          size: p.size!,
          remoteSize: p.size!,
          ...(remote.mtimeMs !== undefined ? { remoteMtimeMs: remote.mtimeMs } : {}),
        });
      }
    }
  }

  /** Writes one root's manifest under a temporary name, then renames it into place. */
  async #store(root: string): Promise<void> {
    const manifest = await this.#manifest(root);
    const path = posix.join(root, this.#name);
    const temp = `${path}.${crypto.randomUUID().slice(0, 8)}.tmp`;
    const local = await Deno.makeTempFile({ prefix: "ftpbatch-manifest-" });
    try {
      const bytes = new TextEncoder().encode(serializeManifest(manifest));
      await Deno.writeFile(local, bytes);
      await this.#link.run((s) =>
        s.upload({
          localPath: local,
          remotePath: temp,
          offset: 0,
          method: "restart",
          size: bytes.length,
        })
      );
      await this.#link.run((s) => s.rename(temp, path));
    } finally {
      await Deno.remove(local).catch(() => {});
    }
  }

  #note(text: string): void {
    const line = safeText(text, [this.o.login.password]);
    if (!this.notes.includes(line)) {
      this.notes.push(line);
      this.o.log?.(line);
    }
  }
}
