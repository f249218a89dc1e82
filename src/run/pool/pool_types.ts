/**
 * The shapes around the pool (`pool.ts`): what it is given, what it tells
 * (each file's result, the run's connections), and its own bookkeeping of how
 * a worker ended and what the run learned of its connections.
 *
 * @module
 */

import type { JobResult, UploadSettings } from "./messages.ts";
import type { JobStream } from "./job_stream_reader.ts";
import type { RunEvent } from "../../report/events.ts";
import type { WarmWorkers } from "./warm_workers.ts";

export interface PoolOptions {
  settings: UploadSettings;
  workers: number;
  log?: (line: string) => void;
  /** Retries, reconnects, and a `progress` snapshot every `PROGRESS_MS` (see `RunOptions.onEvent`). */
  onEvent?: (event: RunEvent) => void;
  /** Each job's result as soon as it is final (sent or not). */
  onResult?: (id: number, result: PoolResult) => void;
  signal?: AbortSignal;
  /** `inline`: workers in this isolate (`inline_worker.ts`); a URL: Web Workers of it. */
  workerUrl: URL | "inline";
  /** More jobs, produced while the run goes (folder sources), after `jobs`. */
  stream?: JobStream;
  /** Workers started ahead (during the skip phase): the first slots adopt them. */
  warm?: WarmWorkers;
}

/** A job's result with the worker that finished it (0: none). */
export type PoolResult = JobResult & { worker: number };

export interface PoolOutcome {
  reconnects: number;
  /** Most connections logged in at the same time. */
  peakConnections: number;
  interrupted?: "SIGINT" | "SIGTERM";
  /** Set when no connection could be made at all. */
  connectError?: string;
}

/** How a worker ended, for the pool's one place that gives its work back. */
export type Loss =
  | { how: "refused" }
  | { how: "connectFailed"; error: string }
  | { how: "crashed"; error: string }
  | { how: "stalled"; error: string };

/** What the run learned of its connections, for the outcome and the messages. */
export interface Connections {
  everReady: boolean;
  peak: number;
  reconnects: number;
  /** The first reason a login failed for good. */
  connectError?: string;
  lastCrash?: string;
  loggedRetry: number;
  /** Connections the run may use now (fewer after a refusal until the slot is tried again). */
  limit: number;
}

/** A first login's retry as an event (no file yet, so no path). */
export function connectRetry(m: { attempt: number; error: string; pauseMs: number }) {
  return {
    type: "retry",
    attempt: m.attempt,
    error: m.error,
    delayMs: m.pauseMs,
    reconnect: false,
  } as const;
}
