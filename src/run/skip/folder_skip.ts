/**
 * The skip rules for files walked from folder sources: each chunk is checked
 * against the server before its files are queued, so a nightly mirror of an
 * unchanged folder sends nothing while the walk still streams.
 *
 * Each destination folder is listed once: the walk gives a folder's files
 * one after another, so only the chunk's last folder can go on in the next
 * chunk, and only its listing is kept for it; every other listing is dropped
 * as soon as its files are decided. One connection serves every chunk
 * (opened on first use, again after a loss), and what the server's clocks
 * are is learned once for the run (`skip_clock.ts`, the run's `clock`).
 *
 * This never fails a file: when a check cannot be made, the chunk is sent,
 * and the pool meets the problem and reports it.
 *
 * @module
 */

import { posix } from "node:path";
import { FTPError, ProtocolError } from "../../ftp/errors.ts";
import type { Listing, RemoteEntry } from "../../ftp/listing.ts";
import { errorText } from "../../ftp/server_text.ts";
import { planSkips } from "../../plan/skip.ts";
import { newServerClock, type ServerClock } from "../../plan/server_clock.ts";
import type { UploadJob } from "../../upload/job.ts";
import { toConnectError } from "../../upload/retry.ts";
import {
  byContent,
  candidateRule,
  namesByFolder,
  type RemoteCheckOptions,
} from "./remote_check.ts";
import { settleClock } from "./skip_clock.ts";
import { SkipLink } from "./skip_link.ts";
import type { SkipFilter } from "../sources/folder_jobs.ts";

type SkipFilterOptions = Omit<RemoteCheckOptions, "jobs" | "connections">;

/** A filter over one connection for the whole walk; `notes` collects what is said once. */
export function skipFilter(o: SkipFilterOptions, notes: string[]): SkipFilter {
  const filter = new FolderSkipFilter(o, notes);
  return Object.assign((jobs: UploadJob[]) => filter.check(jobs), { close: () => filter.close() });
}

/** A folder's listing as read: complete (or the folder is absent), or only the names asked. */
interface Read {
  dir: string;
  listing: Listing;
  complete: boolean;
}

export class FolderSkipFilter {
  readonly #link: SkipLink;
  /** The last folder of the previous chunk: its files may go on in this one. */
  #carried?: Read;
  /** Folders above the destinations, known to be there or not (one CWD each, once). */
  #exists = new Map<string, boolean>();
  /** What the run knows of the server's clocks (shared with the listed files' check). */
  readonly #clock: ServerClock;
  /** The login was refused for good: nothing more is asked, everything is sent. */
  #refused = false;
  #failedOnce = false;
  #perFileSaid = false;
  /** Listings read, for tests: each folder once. */
  listed = 0;

  constructor(readonly o: SkipFilterOptions, readonly notes: string[]) {
    this.#clock = o.clock ?? newServerClock();
    this.#link = new SkipLink(o);
  }

  async check(jobs: UploadJob[]): ReturnType<SkipFilter> {
    const everything = { send: jobs, skipped: [] };
    if (this.#refused || this.o.rule === "none" || jobs.length === 0) return everything;
    try {
      const byDir = namesByFolder(jobs);
      const listings = new Map<string, Listing>();
      let last: Read | undefined;
      for (const [dir, names] of byDir) {
        last = this.#carried?.dir === dir && this.#carried.complete
          ? this.#carried
          : await this.#read(dir, names);
        listings.set(dir, last.listing);
        if (this.o.signal?.aborted) return everything;
      }
      this.#carried = last;
      const clock = this.#clock;
      // "hash": the size rule finds the candidates, the content decides (`byContent`).
      const rule = candidateRule(this.o.rule);
      const said = await settleClock({
        run: this.#link.runner,
        features: () => this.#link.features(),
        listings,
        jobs,
        rule,
        clock,
        ...(this.o.readOnly ? { readOnly: true } : {}),
        secrets: [this.o.login.password],
      });
      for (const note of said) if (!this.notes.includes(note)) this.notes.push(note);
      const plan = planSkips(jobs, listings, rule, { clock });
      return await byContent(this.o, jobs, plan, listings, this.#link.runner);
    } catch (e) {
      this.#carried = undefined;
      this.#link.drop();
      const refused = toConnectError(e, (err) => this.#describe(err));
      if (refused.kind === "auth" || refused.kind === "certificate") this.#refused = true;
      else if (!this.#failedOnce) {
        this.#failedOnce = true;
        this.o.log?.(
          `could not check what is on the server (${this.#describe(e)}): files are sent`,
        );
      }
      return everything;
    }
  }

  /** Drops the connection (the walk is over). */
  async close(): Promise<void> {
    await this.#link.close();
  }

  /**
   * Reads one folder: absent when a folder above it is; a listing the server
   * refuses or that cannot be read falls back to asking per name.
   */
  async #read(dir: string, names: string[]): Promise<Read> {
    const absent = { dir, listing: new Map(), complete: true };
    for (const a of ancestors(dir).reverse()) {
      let there = this.#exists.get(a);
      if (there === undefined) this.#exists.set(a, there = await this.#link.run((s) => s.isDir(a)));
      if (!there) return absent;
    }
    try {
      this.listed++;
      const listing = await this.#link.run((s) => s.list(dir));
      return listing ? { dir, listing, complete: true } : absent;
    } catch (e) {
      if (!(e instanceof FTPError || e instanceof ProtocolError)) throw e;
      if (!this.#perFileSaid) {
        this.#perFileSaid = true;
        this.o.log?.(
          `${dir} could not be listed (${this.#describe(e)}); its files were checked one by one`,
        );
      }
      const listing = new Map<string, RemoteEntry>();
      for (const name of names) {
        const entry = await this.#link.run((s) => s.stat(posix.join(dir, name)));
        if (entry) listing.set(name, entry);
      }
      return { dir, listing, complete: false };
    }
  }

  #describe(e: unknown): string {
    return errorText(e, [this.o.login.password]);
  }
}

/** The folders above `dir`, "/" excluded. */
function ancestors(dir: string): string[] {
  const out: string[] = [];
  for (let d = posix.dirname(dir); d !== "/" && d !== "."; d = posix.dirname(d)) out.push(d);
  return out;
}
