/**
 * Reads a report file as a stream: the top-level fields are parsed as
 * usual, the `files` array one element at a time, so a report of a million
 * files is read without holding it (`report merge`). Any JSON layout works
 * (pretty-printed, one line, fields in any order); a file cut short or not
 * JSON is a `ReportScanError`.
 *
 * @module
 */

/** What the scan found that is not a report (the message says what and where). */
export class ReportScanError extends Error {}

export interface ScanHandlers {
  /** The top-level fields met before `files`, when `files` begins. */
  filesStart?(head: Record<string, unknown>): void;
  /** One element of `files`, parsed, with its position. */
  file(value: unknown, index: number): void;
}

/** The top-level fields (without `files`), and whether and how many `files` there were. */
export interface ScanResult {
  fields: Record<string, unknown>;
  /** Undefined when the report has no `files` array. */
  files?: number;
}

const READ_SIZE = 1024 * 1024;

/** Scans the report at `path`. */
export async function scanReportFile(path: string, handlers: ScanHandlers): Promise<ScanResult> {
  const file = await Deno.open(path, { read: true });
  try {
    const scanner = new ReportScanner(handlers);
    const decoder = new TextDecoder("utf-8", { fatal: true });
    const buf = new Uint8Array(READ_SIZE);
    for (;;) {
      const n = await file.read(buf);
      if (n === null) break;
      scanner.push(decoder.decode(buf.subarray(0, n), { stream: true }));
    }
    scanner.push(decoder.decode());
    return scanner.end();
  } catch (e) {
    if (e instanceof TypeError && /encoded data/i.test(e.message)) {
      throw new ReportScanError("is not UTF-8 text");
    }
    throw e;
  } finally {
    file.close();
  }
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const COLON = 0x3a;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * The scanner's state between chunks: nesting depth, whether inside a
 * string, and the text of the value being captured (a top-level field's
 * value, or one element of `files`).
 */
class ReportScanner {
  #depth = 0;
  #inString = false;
  #escaped = false;
  #started = false;
  #ended = false;
  /** At depth 1: what comes next. */
  #expect: "key" | "colon" | "value" | "comma" = "key";
  #key?: string;
  #inFiles = false;
  #files?: number;
  #capturing = false;
  #carry = "";
  #from = 0;
  readonly #fields: Record<string, unknown> = {};

  constructor(readonly handlers: ScanHandlers) {}

  push(t: string): void {
    for (let i = 0; i < t.length; i++) {
      const c = t.charCodeAt(i);
      if (this.#inString) {
        if (this.#escaped) this.#escaped = false;
        else if (c === BACKSLASH) this.#escaped = true;
        else if (c === QUOTE) {
          this.#inString = false;
          if (this.#depth === 1 && this.#expect === "key") this.#endKey(t, i);
        }
        continue;
      }
      if (isSpace(c)) continue;
      if (this.#ended) throw new ReportScanError("has text after the end of the JSON object");
      if (!this.#started) {
        if (c !== OPEN_OBJECT) throw new ReportScanError("is not a JSON object");
        this.#started = true;
        this.#depth = 1;
        continue;
      }
      if (this.#inFiles && this.#depth === 2) {
        this.#atFilesLevel(t, i, c);
        continue;
      }
      if (this.#depth === 1) {
        this.#atTopLevel(t, i, c);
        continue;
      }
      // Inside a value being captured.
      if (c === QUOTE) this.#inString = true;
      else if (c === OPEN_OBJECT || c === OPEN_ARRAY) this.#depth++;
      else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
        this.#depth--;
        if (this.#inFiles && this.#depth === 2) this.#endElement(t, i + 1);
      }
    }
    if (this.#capturing) {
      this.#carry += t.slice(this.#from);
      this.#from = 0;
    }
  }

  end(): ScanResult {
    if (!this.#ended) throw new ReportScanError("is cut short (the JSON does not end)");
    return { fields: this.#fields, ...(this.#files !== undefined ? { files: this.#files } : {}) };
  }

  /** Depth 1, outside strings: keys, colons, commas, and where values start and end. */
  #atTopLevel(t: string, i: number, c: number): void {
    switch (this.#expect) {
      case "key":
        if (c === CLOSE_OBJECT && this.#key === undefined) return this.#close();
        if (c !== QUOTE) throw this.#bad("a field name");
        this.#inString = true;
        this.#capture(t, i);
        return;
      case "colon":
        if (c !== COLON) throw this.#bad('":"');
        this.#expect = "value";
        return;
      case "value":
        if (this.#key === "files" && c === OPEN_ARRAY) {
          if (this.#files !== undefined) throw new ReportScanError('has "files" twice');
          this.handlers.filesStart?.({ ...this.#fields });
          this.#files = 0;
          this.#inFiles = true;
          this.#depth = 2;
          return;
        }
        this.#expect = "comma";
        this.#capture(t, i);
        if (c === QUOTE) this.#inString = true;
        else if (c === OPEN_OBJECT || c === OPEN_ARRAY) this.#depth++;
        return;
      case "comma":
        if (c !== COMMA && c !== CLOSE_OBJECT) {
          if (c === QUOTE) this.#inString = true;
          if (c === CLOSE_ARRAY || c === OPEN_ARRAY || c === OPEN_OBJECT) {
            throw this.#bad('"," or "}"');
          }
          return; // more of a number or a literal
        }
        if (this.#capturing) this.#endValue(t, i);
        this.#key = undefined;
        if (c === CLOSE_OBJECT) return this.#close();
        this.#expect = "key";
        return;
    }
  }

  /** Depth 2 inside `files`: elements start with `{`; commas between; `]` ends it. */
  #atFilesLevel(t: string, i: number, c: number): void {
    if (c === COMMA) return;
    if (c === CLOSE_ARRAY) {
      this.#inFiles = false;
      this.#depth = 1;
      this.#expect = "comma";
      return;
    }
    if (c !== OPEN_OBJECT) {
      throw new ReportScanError(`has files[${this.#files}] that is not a JSON object`);
    }
    this.#depth = 3;
    this.#capture(t, i);
  }

  #capture(t: string, i: number): void {
    this.#capturing = true;
    this.#carry = "";
    this.#from = i;
    void t;
  }

  #take(t: string, end: number): string {
    const text = this.#carry + t.slice(this.#from, end);
    this.#capturing = false;
    this.#carry = "";
    return text;
  }

  #endKey(t: string, i: number): void {
    try {
      this.#key = JSON.parse(this.#take(t, i + 1));
    } catch {
      throw new ReportScanError("is not JSON (a field name is not a JSON string)");
    }
    this.#expect = "colon";
  }

  #endValue(t: string, end: number): void {
    const text = this.#take(t, end).trimEnd();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ReportScanError(`has a field "${this.#key}" that is not JSON`);
    }
    this.#fields[this.#key!] = value;
  }

  #endElement(t: string, end: number): void {
    const text = this.#take(t, end);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new ReportScanError(`has files[${this.#files}] that is not JSON`);
    }
    this.handlers.file(value, this.#files!);
    this.#files!++;
  }

  #close(): void {
    this.#depth = 0;
    this.#ended = true;
  }

  #bad(what: string): ReportScanError {
    return new ReportScanError(`is not JSON (expected ${what} at the top level)`);
  }
}
