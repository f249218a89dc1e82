/**
 * Replies: the shape of one, and the readers of the few replies whose text
 * carries data (SIZE, FEAT).
 *
 * @example
 * ```ts
 * import { sizeFrom } from "./reply.ts";
 * sizeFrom({ code: 213, message: "213 1234" }); // 1234 (213: Code.FileStatus)
 * ```
 *
 * @module
 */

import { Code, isNegative, isPermanent } from "./codes.ts";
import { FTPError, ProtocolError } from "./errors.ts";

/** A reply to one command. */
export interface Reply {
  code: number;
  message: string;
}

/** The size in a SIZE reply; `undefined` when the server says there is no such file (5xx). */
export function sizeFrom(reply: Reply): number | undefined {
  if (isPermanent(reply.code)) return undefined;
  if (reply.code !== Code.FileStatus) throw new FTPError(reply);
  const n = parseInt(reply.message.slice(4), 10);
  if (Number.isNaN(n)) throw new ProtocolError(`unreadable SIZE reply: ${reply.message}`);
  return n;
}

/** Parses a FEAT reply into first word -> rest (`REST` -> `STREAM`, `UTF8` -> ``). */
export function parseFeatures(reply: Reply): Map<string, string> {
  const features = new Map<string, string>();
  if (isNegative(reply.code)) return features;
  const lines = reply.message.split(/\r?\n/).slice(1, -1);
  for (const line of lines) {
    const [name, ...rest] = line.trim().split(" ");
    if (name) features.set(name.toUpperCase(), rest.join(" "));
  }
  return features;
}
