/**
 * The records of one run on their way to the report: each file's final record
 * is counted (`report_tally.ts`) and goes to the sink (the report file, as it
 * comes) or is kept (`collector.ts`) to be returned in config order; at the
 * end the run's facts make the report's tail, the report and the summary.
 *
 * @module
 */

import {
  EXIT,
  type Report,
  type ReportFile,
  type ReportHead,
  type ReportSummary,
  reportTail,
} from "./report.ts";
import { type EntryExtras, type EntryStart, ReportTally } from "./report_tally.ts";
import { ReportCollector } from "./collector.ts";
import type { ReportSink } from "./report_writer.ts";

/** What the run knows at its end, besides its records. */
export interface RunEnd {
  startedAt: Date;
  finishedAt: Date;
  /** The connections that logged in (at most at once), or those planned in a dry run. */
  workers: number;
  notes: string[];
  interrupted?: "SIGINT" | "SIGTERM";
  reconnects: number;
  connectFailed: boolean;
  /** The mirror deletions were refused (over the cap): exit 5 where the run was otherwise clean. */
  deletionsRefused: boolean;
  /** What each folder entry's walk met besides files. */
  extras: (index: number) => EntryExtras;
}

/** The report, the summary's facts and the exit code. */
export interface RunResult {
  report: Report;
  summary: ReportSummary;
  exitCode: number;
}

/** Ids of records added after the uploads (deletions) start here: after every walked file. */
const LATE_IDS = Number.MAX_SAFE_INTEGER - 1e6;

export class RunRecords {
  readonly tally: ReportTally;
  readonly #collector?: ReportCollector;
  #late = 0;

  /** `folders`: the folder entries, counted apart; without `sink` the records are kept. */
  constructor(readonly head: ReportHead, folders: EntryStart[], readonly sink?: ReportSink) {
    this.tally = new ReportTally(folders);
    if (!sink) this.#collector = new ReportCollector();
    sink?.begin(head);
  }

  /** One file's final record: `entry` is its `files[]` index, `id` its order within the entry. */
  add(file: ReportFile, entry: number, id: number): void {
    this.tally.add(file, entry);
    if (this.sink) this.sink.file(file);
    else this.#collector!.add(file, entry, id);
  }

  /** A record made after the uploads (a deletion): after every other record of its entry. */
  addLate(file: ReportFile, entry: number): void {
    this.add(file, entry, LATE_IDS + this.#late++);
  }

  /** The report (its `files` empty when they went to the sink), the summary, the exit code. */
  finish(end: RunEnd): RunResult {
    const tail = reportTail(
      {
        startedAt: end.startedAt,
        finishedAt: end.finishedAt,
        workers: end.workers,
        notes: end.notes,
        interrupted: end.interrupted,
        reconnects: end.reconnects,
        connectFailed: end.connectFailed,
      },
      this.tally.totals,
      this.tally.entries(end.extras),
    );
    if (end.deletionsRefused && tail.exitCode === EXIT.ok) tail.exitCode = EXIT.deletionsRefused;
    const report: Report = { ...this.head, files: this.#collector?.files() ?? [], ...tail };
    const summary: ReportSummary = {
      ...this.head,
      ...tail,
      problems: this.tally.problems,
      problemCount: this.tally.problemCount,
      plannedBytes: this.tally.plannedBytes,
    };
    return { report, summary, exitCode: tail.exitCode };
  }
}
