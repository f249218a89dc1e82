/**
 * `report merge` over report files, as streams: each shard report is read
 * twice, one record at a time (`report_scanner.ts`): once to check it all
 * (`MergeCheck`), once to copy its records into the merged report, which
 * goes to a `ReportWriter` (a file, renamed into place when whole, or
 * standard output). Nothing is written when a check fails.
 *
 * @module
 */

import { MergeCheck, mergedSummary, type MergeOptions } from "./merge.ts";
import { MergeError, notReport, type ShardState } from "./merge_checks.ts";
import type { ReportFile, ReportSummary, ReportTail } from "./report.ts";
import { ReportScanError, type ScanHandlers, scanReportFile } from "./report_scanner.ts";
import type { ReportWriter } from "./report_writer.ts";

/** A shard report file: `name` for messages (as the user gave it), `path` to read. */
export interface ReportPath {
  name: string;
  path: string;
}

/**
 * Checks every report, then writes the merged one to `out` (whose `finish`
 * the caller calls with the returned tail). Throws MergeError, naming the
 * report, when they do not fit together or one cannot be read.
 */
export async function mergeReportFiles(
  inputs: ReportPath[],
  out: ReportWriter,
  opts: MergeOptions = {},
): Promise<{ tail: ReportTail; summary: ReportSummary }> {
  const check = new MergeCheck(opts);
  for (const { name, path } of inputs) {
    let state: ShardState | undefined;
    const { fields } = await scan(name, path, {
      filesStart: (head) => state = check.start(name, head),
      file: (f, i) => check.file(state!, f, i),
    });
    if (!state) throw notReport(name, 'no "files" array');
    check.end(state, fields);
  }
  const { head, tail, order } = check.finish();
  out.begin(head);
  for (const k of order) {
    const { name, path } = inputs[k];
    let count = 0;
    await scan(name, path, {
      file: (f) => {
        count++;
        out.file(f as ReportFile);
      },
    });
    if (count !== check.states[k].files) {
      throw new MergeError(`${name} changed while it was being merged; merge again`);
    }
  }
  return { tail, summary: mergedSummary(check, head, tail) };
}

async function scan(name: string, path: string, handlers: ScanHandlers) {
  try {
    return await scanReportFile(path, handlers);
  } catch (e) {
    if (e instanceof ReportScanError) {
      throw new MergeError(`${name} ${e.message} (a report cut short, or another file?)`);
    }
    if (e instanceof MergeError) throw e;
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.PermissionDenied) {
      throw new MergeError(`cannot read the report ${name}: ${(e as Error).message}`);
    }
    throw e;
  }
}
