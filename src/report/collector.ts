/**
 * A report sink that keeps every record in memory and gives them back in
 * config order (each listed file at its entry, each folder entry's files in
 * walk order): what `runUpload` returns when no report file streams, for
 * tests and small runs. A large run streams (`report_writer.ts`) instead.
 *
 * @module
 */

import type { ReportFile } from "./report.ts";

export class ReportCollector {
  #kept: { entry: number; id: number; file: ReportFile }[] = [];

  /** `entry`: the file's `files[]` index; `id`: its order within a folder entry's walk. */
  add(file: ReportFile, entry: number, id: number): void {
    this.#kept.push({ entry, id, file });
  }

  /** The records in config order. */
  files(): ReportFile[] {
    return this.#kept.sort((a, b) => a.entry - b.entry || a.id - b.id).map((k) => k.file);
  }
}
