/**
 * The reply parser: bytes in (split anywhere, as a socket delivers them),
 * whole replies out, `ddd text` or `ddd-` lines up to the `ddd ` line. No
 * socket and no timer: `control.ts` feeds it. A hostile or broken server
 * cannot make it grow: a line, and a whole reply, are capped, and going over
 * a cap, like a reply that does not start with three digits, is a
 * `ProtocolError` (after which the connection is not to be used again).
 *
 * @example
 * ```ts
 * import { ReplyParser } from "./reply_parser.ts";
 * const parser = new ReplyParser();
 * parser.push(new TextEncoder().encode("211-Features:\r\n MDTM\r\n21"));
 * parser.next(); // undefined: the reply is not complete
 * parser.push(new TextEncoder().encode("1 End\r\n"));
 * parser.next(); // { code: 211, message: "211-Features:\n MDTM\n211 End" }
 * ```
 *
 * @module
 */

import { ProtocolError } from "./errors.ts";
import type { Reply } from "./reply.ts";

/** Longest reply line taken (characters): a 4 KiB path in a reply, with room to spare. */
export const MAX_LINE = 8 * 1024;
/** Most lines in one reply: FEAT or HELP lists run to a few dozen. */
export const MAX_REPLY_LINES = 500;
/** Most characters in one reply. */
export const MAX_REPLY_CHARS = 64 * 1024;

/** Bytes to text, keeping a character split between two pushes for the next one. */
export type Decode = (bytes: Uint8Array) => string;

/** A multi-line reply whose last line has not come yet. */
interface Partial {
  first: string;
  lines: string[];
  chars: number;
}

/** Turns the bytes of a control connection into replies, in order. */
export class ReplyParser {
  #decode: Decode;
  /** Decoded text not yet taken as lines. */
  #text = "";
  #partial?: Partial;

  /** `decode`: the server's legacy code page (`encoding.ts`); absent = UTF-8. */
  constructor(decode?: Decode) {
    if (decode) {
      this.#decode = decode;
    } else {
      const decoder = new TextDecoder();
      this.#decode = (bytes) => decoder.decode(bytes, { stream: true });
    }
  }

  /** Takes bytes as they came. */
  push(bytes: Uint8Array): void {
    this.#text += this.#decode(bytes);
  }

  /** Whether anything came that is not handed out yet (a reply nobody asked for, or part of one). */
  get buffered(): boolean {
    return this.#text !== "" || this.#partial !== undefined;
  }

  /** The start of what is buffered, for an error message. */
  get head(): string {
    return (this.#partial?.first ?? this.#text).slice(0, 80);
  }

  /** The next whole reply (1xx ones included), or undefined until more bytes come. */
  next(): Reply | undefined {
    for (;;) {
      const line = this.#line();
      if (line === undefined) return undefined;
      const reply = this.#take(line);
      if (reply) return reply;
    }
  }

  /** One line, without its CR LF; undefined while its end has not come. */
  #line(): string | undefined {
    const i = this.#text.indexOf("\n");
    if (i >= 0 && i <= MAX_LINE) {
      const line = this.#text.slice(0, i).replace(/\r$/, "");
      this.#text = this.#text.slice(i + 1);
      return line;
    }
    if (i > MAX_LINE || this.#text.length > MAX_LINE) {
      throw new ProtocolError(`reply line over ${MAX_LINE} characters (control socket)`);
    }
    return undefined;
  }

  /** Adds a line to the reply under way; returns the reply when this line ends it. */
  #take(line: string): Reply | undefined {
    const partial = this.#partial;
    if (!partial) {
      if (!/^\d{3}/.test(line)) {
        throw new ProtocolError(`unreadable reply (control socket): ${line.slice(0, 80)}`);
      }
      if (line[3] !== "-") return { code: Number(line.slice(0, 3)), message: line };
      this.#partial = { first: line, lines: [line], chars: line.length };
      return undefined;
    }
    partial.lines.push(line);
    partial.chars += line.length + 1;
    // Lines inside may start with any digits; only `ddd ` (or a bare `ddd`) ends it.
    const code = partial.first.slice(0, 3);
    if (line.startsWith(`${code} `) || line === code) {
      this.#partial = undefined;
      return { code: Number(code), message: partial.lines.join("\n") };
    }
    if (partial.lines.length >= MAX_REPLY_LINES || partial.chars > MAX_REPLY_CHARS) {
      throw new ProtocolError(
        `reply over ${MAX_REPLY_LINES} lines or ${MAX_REPLY_CHARS} characters ` +
          `(control socket): ${partial.first.slice(0, 80)}`,
      );
    }
    return undefined;
  }
}
