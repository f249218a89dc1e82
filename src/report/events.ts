/**
 * What a run tells as it goes (`RunEvent`), and the two ways it is shown:
 * one NDJSON line per event for machines (`--json`, see `eventLine`) and one
 * line per finished file for people (`--verbose`, see `fileLine`). Pure: the
 * run layer emits the events, the CLI writes them. Every server text (a
 * file's `error`/`reason`, a retry's `error`) passes through `safeText` with
 * the password here, whatever the run layer already did.
 *
 * @example
 * ```ts
 * import { eventLine } from "./events.ts";
 * eventLine({ type: "run-start", files: 2, bytes: 10, workers: 1, dryRun: false }, [],
 *   new Date(0));
 * // '{"type":"run-start","time":"1970-01-01T00:00:00.000Z","files":2,"bytes":10,...}'
 * ```
 *
 * @module
 */

import { safeText } from "../ftp/server_text.ts";
import type { ReportFile, Totals } from "./report.ts";
import { formatBytes } from "./summary.ts";

/**
 * The run begins: `files` listed in the config (or shard), `bytes` of those
 * found, `workers` it opens; `folders`: folder sources whose files are found
 * while the run goes (not in `files` and `bytes`).
 */
export interface RunStartEvent {
  type: "run-start";
  files: number;
  bytes: number;
  workers: number;
  dryRun: boolean;
  folders?: number;
}

/** One file is done, for good: exactly its entry in the report. One per file. */
export interface FileEvent {
  type: "file";
  file: ReportFile;
}

/**
 * A failed try is followed by another after `delayMs`: `path` is the file's
 * destination or the folder being created (absent for a worker's first
 * login), `attempt` the try about to be made, `reconnect` when a new
 * connection is logged in first. `worker` is the connection (1-based).
 */
export interface RetryEvent {
  type: "retry";
  worker: number;
  path?: string;
  attempt: number;
  error: string;
  delayMs: number;
  reconnect: boolean;
}

/**
 * A worker logged in again after losing its connection, or a new worker took
 * over from a lost one (one per `totals.reconnects`), with the retry that
 * asked for it when there was one.
 */
export interface ReconnectEvent {
  type: "reconnect";
  worker: number;
  path?: string;
  attempt?: number;
  error?: string;
  delayMs?: number;
}

/**
 * Where the transfers stand, a few times a second while workers run: for the
 * live progress line only (never written as NDJSON). `bytesSent` counts bytes
 * put on data connections (retries too, the transfers under way included);
 * `bytesMoving` how far the files under way got (their resume offset
 * included). The files done are known from the `file` events.
 */
export interface ProgressEvent {
  type: "progress";
  bytesSent: number;
  bytesMoving: number;
  connections: number;
  /** The files and their bytes known so far (folder walks add to run-start's). */
  files?: number;
  bytes?: number;
}

/** The run is over: its totals, its exit code, where its report went (null: none written). */
export interface RunEndEvent {
  type: "run-end";
  exitCode: number;
  durationMs: number;
  dryRun: boolean;
  interrupted?: "SIGINT" | "SIGTERM";
  totals: Totals;
  report: string | null;
}

export type RunEvent =
  | RunStartEvent
  | FileEvent
  | RetryEvent
  | ReconnectEvent
  | ProgressEvent
  | RunEndEvent;

/** Fields that may hold a server's words. */
const SERVER_TEXT = ["error", "reason"] as const;

/**
 * The event as one line of JSON (no newline), with `type` first and `time`
 * (ISO 8601) second; `undefined` for a `progress` event, which is for the
 * terminal only. A `file` event's fields are the report entry's, flat.
 */
export function eventLine(
  event: RunEvent,
  secrets: readonly (string | undefined)[],
  time: Date = new Date(),
): string | undefined {
  if (event.type === "progress") return undefined;
  const { type, ...rest } = event;
  const body: Record<string, unknown> = event.type === "file" ? { ...event.file } : rest;
  for (const key of SERVER_TEXT) {
    if (typeof body[key] === "string") body[key] = safeText(body[key] as string, secrets);
  }
  return JSON.stringify({ type, time: time.toISOString(), ...body });
}

/**
 * One line for a finished file (`--verbose`): status, destination, size,
 * time taken, and the reason when there is one, safe to show.
 */
export function fileLine(f: ReportFile, secrets: readonly (string | undefined)[]): string {
  const why = (f as { reason?: string }).reason ?? f.error;
  // The password is looked for in the reason only (it may quote the server), never in the
  // tool's own words and paths.
  const reason = safeText(why ?? "", secrets);
  if (f.status === "missing") return `${safeText(`missing: ${f.destination}`)}: ${reason}`;
  const secs = (f.durationMs / 1000).toFixed(2);
  const resumed = f.resumedFrom.length > 0 ? `, resumed at ${f.resumedFrom.join(", ")}` : "";
  const tries = f.attempts > 1 ? `, ${f.attempts} attempts` : "";
  return safeText(
    `${f.status}: ${f.destination} (${formatBytes(f.size)}, ${secs} s${tries}${resumed})`,
  ) + (why ? `: ${reason}` : "");
}
