/**
 * What every command shares: where its output goes (`Io`), the one flag
 * parser, and `UsageError` for wrong words on the command line (exit 2).
 *
 * @module
 */

import { parseArgs } from "node:util";

/** Where human-facing lines go; tests capture them. */
export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: (name: string) => string | undefined;
}

export const defaultIo: Io = {
  out: (t) => console.log(t),
  err: (t) => console.error(t),
  env: (n) => Deno.env.get(n),
};

export class UsageError extends Error {}

type FlagOptions = NonNullable<NonNullable<Parameters<typeof parseArgs>[0]>["options"]>;

export function parse(args: string[], options: FlagOptions) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${(e as Error).message}; see --help`);
  }
}

/** A whole number flag in [min, max]. */
export function intFlag(
  name: string,
  value: unknown,
  min: number,
  max: number,
): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return n;
}
