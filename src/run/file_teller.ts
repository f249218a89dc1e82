/**
 * Tells each file of a run once, as soon as its entry in the report is final
 * (a `file` event), and keeps that entry so the report reuses it: the events
 * and the report cannot disagree. Files walked from folder sources are found
 * while the run goes: each `progress` event carries the files and bytes known
 * so far, and walked files the skip rules kept back are told on the next tick.
 *
 * @module
 */

import type { CheckedSource } from "../plan/plan.ts";
import type { ProgressEvent, RunEvent } from "../report/events.ts";
import type { ReportFile } from "../report/report.ts";
import type { WalkedFile } from "./folder_feed.ts";

/** Where walked files appear (the folder feed): per folder, in walk order; the skipped ones by id. */
export interface WalkedSoFar {
  readonly files: WalkedFile[][];
  readonly skipped: ReadonlyMap<number, string>;
}

export class FileTeller {
  readonly #told = new Map<number, ReportFile>();
  readonly #listed: Map<number, CheckedSource>;
  readonly #walked = new Map<number, CheckedSource>();
  #indexed: number[] = [];
  #files: number;
  #bytes: number;
  #skippedSeen = 0;

  constructor(
    readonly emit: (event: RunEvent) => void,
    listed: CheckedSource[],
    readonly walk: WalkedSoFar,
    /** The report entry of a file (`id`: its job id), as things stand. */
    readonly entry: (c: CheckedSource, id: number) => ReportFile,
  ) {
    this.#listed = new Map(listed.map((c) => [c.entry.index, c]));
    this.#files = listed.length;
    this.#bytes = listed.reduce((n, c) => n + (c.ok ? c.size : 0), 0);
  }

  /** The listed files and their bytes (what is known at the start). */
  get known(): { files: number; bytes: number } {
    return { files: this.#files, bytes: this.#bytes };
  }

  /** Tells the file with job id `id` now (once). */
  tell(id: number): void {
    const c = this.#listed.get(id) ?? this.#walkedSource(id);
    if (c) this.#entry(c, id);
  }

  /** A pool `progress` event, with the totals known so far; walked files skipped meanwhile told first. */
  progress(e: ProgressEvent): void {
    this.#indexWalk();
    if (this.walk.skipped.size > this.#skippedSeen) {
      this.#skippedSeen = this.walk.skipped.size;
      for (const id of this.walk.skipped.keys()) if (!this.#told.has(id)) this.tell(id);
    }
    this.emit({ ...e, files: this.#files, bytes: this.#bytes });
  }

  /** For the report: the entry told, or (a file nobody answered for) told now. */
  readonly final = (c: CheckedSource, id: number): ReportFile => this.#entry(c, id);

  #entry(c: CheckedSource, id: number): ReportFile {
    const had = this.#told.get(id);
    if (had) return had;
    const file = this.entry(c, id);
    this.#told.set(id, file);
    this.emit({ type: "file", file });
    return file;
  }

  #walkedSource(id: number): CheckedSource | undefined {
    this.#indexWalk();
    return this.#walked.get(id);
  }

  /** Indexes the walked files found since the last call (each once). */
  #indexWalk(): void {
    this.walk.files.forEach((list, i) => {
      for (let k = this.#indexed[i] ?? 0; k < list.length; k++) {
        const w = list[k];
        this.#walked.set(w.id, w);
        this.#files++;
        if (w.ok) this.#bytes += w.size;
      }
      this.#indexed[i] = list.length;
    });
  }
}
