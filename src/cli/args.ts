/**
 * What every command shares: where its output goes (`Io`), the one flag
 * parser (`parseCommand`, which also answers `--help`), `UsageError` for
 * wrong words on the command line (exit 2), and the user's folder.
 *
 * @module
 */

import { resolve } from "node:path";
import { parseArgs } from "node:util";

/** Where human-facing lines go; tests capture them. */
export interface Io {
  out: (text: string) => void;
  /** Bytes on stdout as they are (no newline added): a merged report streamed out. */
  outRaw?: (bytes: Uint8Array) => void;
  err: (text: string) => void;
  env: (name: string) => string | undefined;
  /** Text on stderr as is (no newline): the live progress line. Absent: no live line. */
  errRaw?: (text: string) => void;
  /** Whether stderr is a terminal (the live line is drawn only there). */
  errIsTerminal?: () => boolean;
  /** The terminal's width in columns, when known. */
  columns?: () => number | undefined;
}

export const defaultIo: Io = {
  out: (t) => console.log(t),
  outRaw: (b) => writeAll(Deno.stdout, b),
  err: (t) => console.error(t),
  env: (n) => Deno.env.get(n),
  errRaw: (t) => writeAll(Deno.stderr, new TextEncoder().encode(t)),
  errIsTerminal: () => Deno.stderr.isTerminal(),
  columns: () => {
    try {
      return Deno.consoleSize().columns;
    } catch {
      return undefined; // no terminal on any standard stream
    }
  },
};

/** Synchronous, like `console.error`, so the two never reorder. */
function writeAll(w: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.length;) off += w.writeSync(bytes.subarray(off));
}

export class UsageError extends Error {}

type FlagOptions = Record<string, { type: "string" | "boolean" }>;

/** Flags that take a value (`--workers 8`) and switches (`--quiet`), by name. */
export function flags(strings: string[], booleans: string[] = []): FlagOptions {
  const options: FlagOptions = {};
  for (const name of strings) options[name] = { type: "string" };
  for (const name of booleans) options[name] = { type: "boolean" };
  return options;
}

/** One command's words: its flags, how many positionals, and its help text. */
export interface CommandSpec {
  /** `upload`, `serve`, `demo`: names the command in messages. */
  name: string;
  flags: FlagOptions;
  /** e.g. `{ count: 1, what: "CONFIG file" }`; no count = one or more; absent = none allowed. */
  positionals?: { count?: number; what: string };
  help: string;
}

export type Parsed =
  | { help: true }
  | {
    help: false;
    values: Record<string, string | boolean | undefined>;
    positionals: string[];
  };

/** Parses `args` for `spec`; `undefined` when `--help` was asked for (and printed on `io`). */
export function parseOrHelp(
  spec: CommandSpec,
  args: string[],
  io: Io,
): Extract<Parsed, { help: false }> | undefined {
  const parsed = parseCommand(spec, args);
  if (!parsed.help) return parsed;
  io.out(spec.help);
  return undefined;
}

/**
 * Parses `args` for `spec`. `--help`/`-h` wins (`{ help: true }`);
 * an unknown flag, a missing value or the wrong number of positionals is a
 * {@linkcode UsageError}.
 */
export function parseCommand(spec: CommandSpec, args: string[]): Parsed {
  const options = { ...spec.flags, help: { type: "boolean", short: "h" } } as const;
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    // `upload x.json --bad --help`: asking for help beats the mistake.
    if (args.includes("--help") || args.includes("-h")) return { help: true };
    throw new UsageError(`${spec.name}: ${flagProblem(e as Error)}; see ${spec.name} --help`);
  }
  if (parsed.values.help) return { help: true };
  const want = spec.positionals;
  const n = parsed.positionals.length;
  if (want && want.count === undefined) {
    if (n === 0) throw new UsageError(`${spec.name} needs ${want.what}; see ${spec.name} --help`);
  } else if (n !== (want?.count ?? 0)) {
    throw new UsageError(
      want
        ? `${spec.name} takes exactly ${
          want.count === 1 ? "one" : want.count
        } ${want.what}; see ${spec.name} --help`
        : `${spec.name} takes no arguments besides its options; see ${spec.name} --help`,
    );
  }
  return { help: false, values: parsed.values, positionals: parsed.positionals };
}

/** node:util's words for a flag problem, shortened; never a flag's value. */
function flagProblem(e: Error & { code?: string }): string {
  const flag = e.message.match(/'(-[^' ]*)/)?.[1];
  return e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag ? `unknown option ${flag}` : e.message;
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

/**
 * The folder the user ran the command from. `deno task` runs in the project
 * folder and passes the user's folder as `INIT_CWD`; paths on the command
 * line are meant relative to that.
 */
export function userCwd(io: Io): string {
  const init = io.env("INIT_CWD");
  return init ? resolve(init) : Deno.cwd();
}
