/**
 * Which local names in one folder cannot be sent as themselves, decided
 * while planning so no connection is spent on them. Pure: the names of one
 * folder in, a reason per refused name out.
 *
 * - **CR, LF or NUL** in a name: FTP commands end at a line break, so the
 *   name cannot be carried at all (Linux allows such names).
 * - **Not valid UTF-8**: `Deno.readDir` decodes names lossily, each bad byte
 *   becoming U+FFFD, so `bad\xff.txt` reads back as the name of a real
 *   `bad\u{FFFD}.txt` (whose content would then go twice) and `only\xfe.txt`
 *   as a name that does not exist. A byte-exact name is not available, so a
 *   name with U+FFFD is trusted only when it is the only one in its folder
 *   that reads that way and a file by that exact name exists (the caller
 *   checks that, {@linkcode NameCheck.suspect}); otherwise it fails clearly.
 * - **Two names, one destination**: destinations are NFC, so an NFC and an
 *   NFD `café.txt` side by side would both go to one remote path and the
 *   content would flip on every run. Every name of such a group fails.
 *
 * Two different local paths that reach one destination differ first in one
 * folder, where their names collide: checking each folder's names finds
 * every collision of a walk.
 *
 * @example
 * ```ts
 * import { checkNames } from "./local_names.ts";
 * checkNames(["caf\u00e9.txt", "cafe\u0301.txt", "ok.txt"]).refused.size; // 2
 * ```
 *
 * @module
 */

/** What a lossy UTF-8 decode puts for each byte it cannot read. */
export const REPLACEMENT = "\u{FFFD}";

/** The verdict on one folder's names. */
export interface NameCheck {
  /** Names that fail, with the reason (the report's words). */
  refused: Map<string, string>;
  /** Names with U+FFFD that are unique: fine only if a file by that exact name exists. */
  suspect: Set<string>;
}

/** Why a name with U+FFFD that does not exist under that name fails. */
export const NOT_UTF8 =
  "name is not valid UTF-8 (Deno reads such names with U+FFFD in place of the bad bytes, so it cannot be read or sent under its real name); rename it";

/** Checks the names of one folder (in any order). */
export function checkNames(names: readonly string[]): NameCheck {
  const refused = new Map<string, string>();
  const suspect = new Set<string>();
  // Most folders: plain ASCII names only, which are their own NFC, distinct, and sendable.
  // (Not one by one: a non-ASCII name can reach an ASCII one, the Kelvin sign "K" reaches "K".)
  if (names.every((n) => PLAIN.test(n))) return { refused, suspect };
  const byDestination = new Map<string, string[]>();
  for (const name of names) {
    const broken = lineBreak(name);
    if (broken) {
      refused.set(
        name,
        `name contains ${broken}, which FTP cannot carry in a command; rename it (nothing was sent)`,
      );
      continue;
    }
    const key = name.normalize("NFC");
    const group = byDestination.get(key);
    if (group) group.push(name);
    else byDestination.set(key, [name]);
  }
  for (const [key, group] of byDestination) {
    if (group.length === 1) {
      if (key.includes(REPLACEMENT)) suspect.add(group[0]);
      continue;
    }
    // The reason names no other file: the report shows each one's own path, and a reason
    // quoting names would put text anyone can choose where the password is looked for.
    const reason = group.every((n) => n === group[0])
      ? `another name in this folder reads the same: ${NOT_UTF8}`
      : group.some((n) => n.includes(REPLACEMENT))
      ? `${group.length} names in this folder reach the same destination, and one of them is not valid UTF-8; rename them`
      : `${group.length} names in this folder reach the same destination (the same name after Unicode NFC normalization, e.g. an NFC and an NFD "café"); rename one of them`;
    for (const name of group) refused.set(name, reason);
  }
  return { refused, suspect };
}

/** ASCII without NUL, CR or LF. */
// deno-lint-ignore no-control-regex -- the control characters allowed are the point
const PLAIN = /^[\x01-\x09\x0b\x0c\x0e-\x7f]*$/;

/** "U+000A (a line break)" for the first CR, LF or NUL, or undefined. */
function lineBreak(name: string): string | undefined {
  const m = /[\r\n\0]/.exec(name);
  if (!m) return undefined;
  const code = m[0].charCodeAt(0);
  const what = code === 0 ? "NUL" : code === 0x0a ? "a line feed" : "a carriage return";
  return `U+${code.toString(16).toUpperCase().padStart(4, "0")} (${what})`;
}
