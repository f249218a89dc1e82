/**
 * Reports each file of a run once, as soon as its record is final: a `file`
 * event and the same record to the report (`out`), so the events and the
 * report cannot disagree. Holds only the files not yet reported (listed files,
 * and walked files on their way through the queue); a reported file is dropped.
 * Files walked from folder sources are found while the run goes: each
 * `progress` event carries the files and bytes known so far.
 *
 * @module
 */

import type { CheckedSource } from "../plan/plan.ts";
import type { ProgressEvent, RunEvent } from "./events.ts";
import type { ReportFile } from "./report.ts";
import { type RecordFacts, toReportFile } from "./records.ts";

export class FileReporter {
  readonly #pending = new Map<number, CheckedSource>();
  #files = 0;
  #bytes = 0;
  /** What the count-ahead of the folder walks found so far (walked files only). */
  #ahead = { files: 0, bytes: 0 };
  #walkedFiles = 0;
  #walkedBytes = 0;

  constructor(
    readonly emit: (event: RunEvent) => void,
    listed: CheckedSource[],
    /** Where each reported record goes (the report), with its source and job id. */
    readonly out: (file: ReportFile, c: CheckedSource, id: number) => void,
    /** What holds for every file of the run (a dry run). */
    readonly base: RecordFacts = {},
  ) {
    for (const c of listed) this.#add(c.entry.index, c);
  }

  /** The files and their bytes known so far. */
  get known(): { files: number; bytes: number } {
    return { files: this.#files, bytes: this.#bytes };
  }

  /** Files known and not yet reported. */
  get pending(): number {
    return this.#pending.size;
  }

  /** A file walked from a folder source (job id `id`), to be reported later. */
  walked(c: CheckedSource, id: number): void {
    this.#add(id, c);
    this.#walkedFiles++;
    if (c.ok) this.#walkedBytes += c.size;
  }

  /** The count-ahead of the folder walks got this far: the totals shown are at least this. */
  countedAhead(files: number, bytes: number): void {
    this.#ahead = { files, bytes };
  }

  /** Reports the file with job id `id` now (once); later calls for it do nothing. */
  report(id: number, facts?: RecordFacts): void {
    const c = this.#pending.get(id);
    if (!c) return;
    this.#pending.delete(id);
    const file = toReportFile(c, facts ? { ...this.base, ...facts } : this.base);
    this.emit({ type: "file", file });
    this.out(file, c, id);
  }

  /** Reports every file not reported yet (nobody answered for them), in the order they became known. */
  reportRest(facts: RecordFacts = {}): void {
    for (const id of [...this.#pending.keys()]) this.report(id, facts);
  }

  /**
   * A pool `progress` event, with the totals known so far: the listed files
   * and, for folder sources, what the count-ahead found when it is ahead of
   * the walk (it always is, but for a file that changed in between).
   */
  progress(e: ProgressEvent): void {
    const files = this.#files - this.#walkedFiles + Math.max(this.#walkedFiles, this.#ahead.files);
    const bytes = this.#bytes - this.#walkedBytes + Math.max(this.#walkedBytes, this.#ahead.bytes);
    this.emit({ ...e, files, bytes });
  }

  #add(id: number, c: CheckedSource): void {
    this.#pending.set(id, c);
    this.#files++;
    if (c.ok) this.#bytes += c.size;
  }
}
