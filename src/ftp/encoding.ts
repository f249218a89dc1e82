/**
 * The server's character encoding for names (`server.encoding`): UTF-8, the
 * default and the fast path, or a legacy code page (cp1251, koi8-r, cp866,
 * gbk, shift_jis, euc-kr...) that old servers store names in.
 *
 * Legacy pages go through npm iconv-lite, loaded only when one is configured:
 * `TextDecoder` decodes them but nothing in Deno encodes them. iconv-lite puts
 * `?` where a page has no character for the text; here that is an
 * {@link UnencodableName} instead, so a name is never sent mangled.
 *
 * @module
 */

import { LocalFileError } from "./errors.ts";

/** The default: UTF-8, no code-page library at all. */
export const UTF8 = "utf8";

/** `utf8`, `UTF-8`, `utf-8`... all name the default. */
export function isUtf8(name: string | undefined): boolean {
  return name === undefined || /^utf-?8$/i.test(name);
}

/** Text <-> bytes in one legacy code page, refusing what the page cannot represent. */
export interface Codec {
  /** The name as configured. */
  readonly name: string;
  /** The bytes of `text`; throws UnencodableName for a character the page lacks. */
  encode(text: string): Uint8Array;
  /** A streaming decoder: a character split across two chunks comes out whole. */
  decoder(): (bytes: Uint8Array) => string;
  /** Why `text` cannot be written in this page (the first character it lacks), or undefined. */
  unencodable(text: string): string | undefined;
}

/**
 * A name the server's code page cannot represent. A LocalFileError for the
 * retry policy: the file's own problem, never retried, nothing sent.
 */
export class UnencodableName extends LocalFileError {
  constructor(message: string) {
    super(message);
  }
}

/** What `loadCodec` finds wrong with an encoding name. */
export type CodecProblem = "unknown" | "notAscii";

type Iconv = typeof import("iconv-lite");
type BufferClass = typeof import("node:buffer").Buffer;

// FTP's verbs, digits and CRLF are ASCII: a page must keep them as they are.
const ASCII = Array.from({ length: 95 }, (_, i) => String.fromCharCode(32 + i)).join("") + "\r\n";

/**
 * The codec for a legacy encoding, or what is wrong with its name. Not for UTF-8
 * (`isUtf8`): that needs no codec. Loads iconv-lite on first use.
 */
export async function loadCodec(name: string): Promise<Codec | CodecProblem> {
  // Both dynamic: a UTF-8 run (every worker's start-up) loads neither.
  const [{ default: iconv }, { Buffer }] = await Promise.all([
    import("iconv-lite"),
    import("node:buffer"),
  ]);
  return codecFrom(iconv, Buffer, name);
}

/** `loadCodec` for a name config validation already accepted: a problem now is a bug. */
export async function legacyCodec(name: string): Promise<Codec> {
  const codec = await loadCodec(name);
  if (typeof codec === "string") throw new Error(`server encoding ${name}: ${codec}`);
  return codec;
}

/** The error for a password the code page cannot carry; which character is never said. */
export function passwordUnencodable(codec: Codec): UnencodableName {
  return new UnencodableName(`the password has a character ${codec.name} cannot represent`);
}

function codecFrom(iconv: Iconv, Buffer: BufferClass, name: string): Codec | CodecProblem {
  if (!iconv.encodingExists(name)) return "unknown";
  // The same memory as a Buffer (iconv-lite's internal codecs want one): no copy.
  const asBuffer = (bytes: Uint8Array) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decode = (bytes: Uint8Array) => iconv.decode(asBuffer(bytes), name, { stripBOM: false });
  const bytes = iconv.encode(ASCII, name);
  if (bytes.length !== ASCII.length || bytes.some((b, i) => b !== ASCII.charCodeAt(i))) {
    return "notAscii"; // utf16, utf7, base64...
  }
  const unencodable = (text: string): string | undefined => {
    // Fast path: what does not come back unchanged has a character the page lacks.
    if (decode(iconv.encode(text, name)) === text) return undefined;
    for (const c of text) {
      if (decode(iconv.encode(c, name)) !== c) return describe(c, name);
    }
    return `cannot be written in ${name}`; // only a combination fails: no single culprit
  };
  return {
    name,
    encode(text) {
      const bytes = iconv.encode(text, name);
      if (decode(bytes) !== text) {
        // Only the character is named, never the text: it may be a PASS line (the
        // transports put `passwordUnencodable` in its place there).
        throw new UnencodableName(unencodable(text) ?? `cannot be written in ${name}`);
      }
      return bytes;
    },
    decoder() {
      const d = iconv.getDecoder(name, { stripBOM: false });
      return (bytes) => d.write(asBuffer(bytes));
    },
    unencodable,
  };
}

/** `"日" (U+65E5) has no cp1251 code`. */
function describe(c: string, name: string): string {
  const code = "U+" + c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0");
  // Letters, digits, punctuation and symbols are shown; anything else (format, combining,
  // unassigned) only by its code point.
  const shown = /^[\p{L}\p{N}\p{P}\p{S}]$/u.test(c) ? `${JSON.stringify(c)} (${code})` : code;
  return `${shown} has no ${name} code`;
}
