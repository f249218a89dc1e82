/**
 * What an upload shows while it runs, as the flags ask:
 * - `--json`: every event (`src/report/events.ts`) as one NDJSON line on
 *   stdout, and nothing else there; no progress line.
 * - stderr a terminal: a live progress line redrawn in place (`\r`, clear
 *   line) at most every `DRAW_MS`; any other stderr line clears it first and
 *   redraws it after, so the two never mix.
 * - stderr not a terminal (a log file, the journal): the same line, plain,
 *   every `PLAIN_MS`.
 * - `--verbose`: one stderr line per finished file.
 * - `--quiet`: none of the above but `--json`; the run's own lines
 *   (failures, warnings) are not shown either, the summary says it all.
 * No colour is used, so there is nothing for `NO_COLOR` to turn off.
 *
 * @module
 */

import { eventLine, fileLine, type RunEndEvent, type RunEvent } from "../report/events.ts";
import { progressLine, type ProgressState, RateWindow } from "../report/progress_line.ts";
import { safeText } from "../ftp/server_text.ts";
import type { Io } from "./args.ts";

export interface OutputFlags {
  json?: boolean;
  verbose?: boolean;
  quiet?: boolean;
}

/** The live line is drawn at most this often. */
const DRAW_MS = 250;
/** The plain line's period where stderr is not a terminal. */
const PLAIN_MS = 10_000;
/** Back to the start of the line, and clear it. */
const CLEAR = "\r\x1b[2K";

export class RunOutput {
  readonly #state: ProgressState = {
    files: 0,
    filesDone: 0,
    bytes: 0,
    bytesSent: 0,
    bytesDone: 0,
    connections: 0,
    retries: 0,
  };
  readonly #rate = new RateWindow();
  /** Sizes of the files told done that needed sending (not skipped or planned). */
  #settled = 0;
  /** Bytes of the sources found, and of those that need no sending (skipped, planned). */
  #found = 0;
  #unsent = 0;
  #mode: "live" | "plain" | "none";
  #shown = false;
  #lastDraw = -Infinity;
  #timer?: ReturnType<typeof setInterval>;

  constructor(
    readonly io: Io,
    readonly flags: OutputFlags,
    readonly secrets: readonly (string | undefined)[],
    readonly now: () => number = () => performance.now(),
  ) {
    this.#mode = flags.quiet || flags.json
      ? "none"
      : io.errRaw && io.errIsTerminal?.()
      ? "live"
      : "plain";
  }

  /** Whether a progress line is shown (it wants the total early: `RunOptions.countAhead`). */
  get showsProgress(): boolean {
    return this.#mode !== "none";
  }

  /** For `RunOptions.log`: the run's own lines (undefined under `--quiet`). */
  get log(): ((line: string) => void) | undefined {
    return this.flags.quiet ? undefined : (line) => this.line(line);
  }

  /** A stderr line, shown above the live progress line. */
  line(text: string): void {
    const redraw = this.#shown;
    this.#clear();
    // Escaped only: server text in these lines had the password replaced where it was met
    // (errorText); searching the tool's own words and paths for it would mangle them.
    this.io.err(safeText(text));
    if (redraw) this.#draw();
  }

  /** For `RunOptions.onEvent`. */
  readonly event = (e: RunEvent): void => {
    if (this.flags.json) {
      const text = eventLine(e, this.secrets);
      if (text !== undefined) this.io.out(text);
    }
    const s = this.#state;
    switch (e.type) {
      case "run-start":
        [s.files, this.#found] = [e.files, e.bytes];
        s.bytes = this.#found;
        this.#rate.add(this.now(), 0);
        if (!e.dryRun) this.#start();
        break;
      case "file":
        s.filesDone++;
        // Already on the server: nothing to send for it, so not in what there is to send.
        if (e.file.status === "skipped" || e.file.status === "planned") this.#unsent += e.file.size;
        else this.#settled += e.file.size;
        s.bytes = this.#found - this.#unsent;
        s.bytesDone = this.#settled;
        if (this.flags.verbose && !this.flags.quiet) this.line(fileLine(e.file, this.secrets));
        break;
      case "retry":
        s.retries++;
        break;
      case "progress":
        s.bytesSent = e.bytesSent;
        s.bytesDone = this.#settled + e.bytesMoving;
        s.connections = e.connections;
        if (e.files !== undefined) s.files = e.files;
        if (e.bytes !== undefined) this.#found = e.bytes;
        s.bytes = this.#found - this.#unsent;
        this.#rate.add(this.now(), e.bytesSent);
        break;
    }
    // Files told before any worker runs (the skip phase) move the line too.
    if (e.type !== "run-end" && this.#mode === "live" && this.now() - this.#lastDraw >= DRAW_MS) {
      this.#draw();
    }
  };

  /** The run is over: no more progress; the live line is wiped. */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#clear();
    this.#mode = "none";
  }

  /** The last event: `run-end` (NDJSON only). */
  end(e: RunEndEvent): void {
    this.stop();
    this.event(e);
  }

  #start(): void {
    if (this.#mode === "live") this.#draw();
    if (this.#mode === "plain") {
      this.#timer = setInterval(() => this.io.err(this.#text()), PLAIN_MS);
    }
  }

  #text(): string {
    return progressLine(this.#state, this.#rate.rate());
  }

  #draw(): void {
    if (this.#mode !== "live") return;
    // Wider than the terminal, the line would wrap and `\r` could not take it back.
    const width = (this.io.columns?.() ?? 0) - 1;
    const text = this.#text();
    this.io.errRaw!(CLEAR + (width > 10 ? text.slice(0, width) : text));
    this.#shown = true;
    this.#lastDraw = this.now();
  }

  #clear(): void {
    if (!this.#shown) return;
    this.io.errRaw!(CLEAR);
    this.#shown = false;
  }
}
