/**
 * The building blocks of config validation: a `Reader` that collects every
 * problem instead of stopping at the first, and small value checks.
 *
 * No message ever contains a string value from the config, and values of
 * secret keys (`password`, `passwordEnv`) are never shown at all, not even a
 * number: a password can't leak into logs through an error message.
 *
 * @module
 */

import type { ConfigProblem } from "./errors.ts";

/** What an environment variable name looks like; only such a name is ever echoed. */
export const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export type Obj = Record<string, unknown>;
/** Returns what is wrong with a value, or `undefined` if it is fine. */
export type Check = (value: unknown) => string | undefined;

/** Collects problems while reading values. */
export class Reader {
  readonly problems: ConfigProblem[] = [];

  add(path: string, message: string): void {
    this.problems.push({ path, message });
  }

  /** The object at `path`, with unknown keys reported; `undefined` if it is not one. */
  object(value: unknown, path: string, keys: string[], example: string): Obj | undefined {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
      this.add(
        path || "(root)",
        path
          ? `must be an object like ${example}${got(value)}`
          : `the config must be a JSON object with "server", "files" and optionally "options"${
            got(value)
          }`,
      );
      return undefined;
    }
    for (const key of Object.keys(value)) {
      if (!keys.includes(key)) {
        this.add(at(path, key), `unknown key; known keys are ${keys.join(", ")}`);
      }
    }
    return value as Obj;
  }

  /**
   * `o[key]` if it passes `check`, else `fallback`. An absent key is a problem
   * only when `missing` says what to add.
   */
  get<T>(o: Obj, path: string, key: string, check: Check, fallback: T, missing?: string): T {
    const value = o[key];
    if (value === undefined) {
      if (missing) this.add(at(path, key), `missing; ${missing}`);
      return fallback;
    }
    const problem = check(value);
    if (problem) {
      this.add(at(path, key), problem);
      return fallback;
    }
    return value as T;
  }
}

export function at(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/**
 * " (got …)" for messages. Strings are never echoed, they may be secrets;
 * with `secret`, numbers and booleans aren't either (a numeric password).
 */
export function got(value: unknown, secret = false): string {
  const kind = typeof value === "number"
    ? "a number"
    : typeof value === "boolean"
    ? "true or false"
    : value === null
    ? "null"
    : typeof value === "string"
    ? "a string"
    : Array.isArray(value)
    ? "an array"
    : "an object";
  const shown = !secret && (typeof value === "number" || typeof value === "boolean")
    ? String(value)
    : kind;
  return ` (got ${shown})`;
}

/**
 * The first control character as "U+000A", if any. `strict` covers all of
 * C0 and DEL; otherwise only CR, LF and NUL, which break the FTP protocol.
 */
export function controlChar(s: string, strict: boolean): string | undefined {
  // Fast path: one regex scan; the loop below only runs to name the character.
  // deno-lint-ignore no-control-regex -- finding control characters is the point
  if (!(strict ? /[\x00-\x1f\x7f]/ : /[\r\n\0]/).test(s)) return undefined;
  for (const c of s) {
    const code = c.charCodeAt(0);
    if (strict ? code < 0x20 || code === 0x7f : c === "\r" || c === "\n" || c === "\0") {
      return "U+" + code.toString(16).toUpperCase().padStart(4, "0");
    }
  }
  return undefined;
}

/** The first problem any of `checks` finds. */
export function all(...checks: Check[]): Check {
  return (value) => {
    for (const check of checks) {
      const problem = check(value);
      if (problem) return problem;
    }
    return undefined;
  };
}

/**
 * A string; `strict` forbids every control character (else only CR, LF, NUL),
 * `secret` never shows the value, even when it is a number.
 */
export function text({ strict = true, allowEmpty = false, secret = false } = {}): Check {
  return (value) => {
    if (typeof value !== "string") return `must be a string${got(value, secret)}`;
    if (!allowEmpty && value === "") return "must not be empty";
    const c = controlChar(value, strict);
    return c
      ? `must not contain control characters such as line breaks or tabs (found ${c}); remove it`
      : undefined;
  };
}

export function integer(min: number, max: number, note = ""): Check {
  return (value) =>
    Number.isInteger(value) && (value as number) >= min && (value as number) <= max
      ? undefined
      : `must be an integer from ${min} to ${max}${note}${got(value)}`;
}

export const boolean: Check = (value) =>
  typeof value === "boolean" ? undefined : `must be true or false${got(value)}`;

export function oneOf(values: unknown[], wording: string): Check {
  return (value) =>
    values.includes(value) ? undefined : `must be ${wording}${
      // "(got a string)" would be misleading for a misspelt value.
      typeof value === "string" ? "" : got(value)}`;
}
