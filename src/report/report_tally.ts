/**
 * What a run keeps of its files while their records stream to the report
 * file: the totals, the totals per folder entry, the bytes planned, and the
 * first problems (failed or missing files) for the summary. Its size does
 * not grow with the number of files.
 *
 * @module
 */

import {
  addToTotals,
  emptyTotals,
  type ReportEntry,
  type ReportFile,
  type Totals,
} from "./report.ts";
import { MAX_PROBLEMS } from "./summary.ts";

/** A folder entry as the tally starts it: no file yet. */
export interface EntryStart {
  index: number;
  source: string;
  destination: string;
}

/** Counts a folder entry's walk met besides its files. */
export interface EntryExtras {
  symlinks: number;
  emptyFolders: number;
}

export class ReportTally {
  readonly totals: Totals = emptyTotals();
  readonly problems: ReportFile[] = [];
  problemCount = 0;
  plannedBytes = 0;
  readonly #entries = new Map<number, Omit<ReportEntry, "symlinks" | "emptyFolders">>();

  constructor(folders: EntryStart[], readonly maxProblems = MAX_PROBLEMS) {
    for (const f of folders) {
      const { reconnects: _, ...zero } = emptyTotals();
      this.#entries.set(f.index, {
        index: f.index,
        source: f.source,
        destination: f.destination,
        ...zero,
      });
    }
  }

  /** One file's final record; `entry` is its `files[]` index (a folder entry's counts it too). */
  add(file: ReportFile, entry: number): void {
    addToTotals(this.totals, file);
    const e = this.#entries.get(entry);
    if (e) addToTotals(e, file);
    if (file.status === "planned" && file.action !== "delete") this.plannedBytes += file.size;
    if (file.status === "failed" || file.status === "missing") {
      if (this.problemCount++ < this.maxProblems) this.problems.push(file);
    }
  }

  /** The folder entries' totals in config order, with what each walk met besides files. */
  entries(extras: (index: number) => EntryExtras): ReportEntry[] {
    return [...this.#entries.values()].sort((a, b) => a.index - b.index)
      .map((e) => ({ ...e, ...extras(e.index) }));
  }
}
