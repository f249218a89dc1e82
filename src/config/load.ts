/**
 * Reads a config file: bytes to UTF-8 text to JSON, then `validateConfig`.
 * A syntax error names a line and column, never the text there.
 *
 * @module
 */

import { resolve } from "node:path";
import type { Config } from "./types.ts";
import { ConfigError } from "./errors.ts";
import { jsonErrorMessage } from "./json_error.ts";
import { validateConfig } from "./validate.ts";

/**
 * Parses and validates config text. `configPath` should be the absolute path
 * of the file: relative `source` and `report` paths resolve against its folder
 * (for a non-absolute value such as `<inline>`, against the current folder).
 *
 * @throws {ConfigError} listing every problem found.
 */
export async function parseConfig(text: string, configPath: string): Promise<Config> {
  const body = text.replace(/^\uFEFF/, ""); // editors on Windows add a BOM
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new ConfigError([{ path: "(json)", message: jsonErrorMessage(body) }], configPath);
  }
  return await validateConfig(json, configPath);
}

/**
 * Reads the config file (UTF-8) at `path`, relative to `cwd` (default: the
 * current folder).
 *
 * @throws {ConfigError} at `(file)` if it can't be read, or as
 * {@linkcode parseConfig} does.
 */
export async function loadConfig(path: string, cwd?: string): Promise<Config> {
  const configPath = cwd === undefined ? resolve(path) : resolve(cwd, path);
  const fail = (message: string) => new ConfigError([{ path: "(file)", message }], configPath);
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(configPath);
  } catch (e) {
    throw fail(
      e instanceof Deno.errors.NotFound
        ? "file not found; check the path"
        : `cannot read the file (${
          e instanceof Error ? e.message : e
        }); check that it is a readable file`,
    );
  }
  let text: string;
  try {
    // fatal: a config saved in a legacy encoding would otherwise turn
    // non-ASCII file names into U+FFFD silently.
    text = new TextDecoder().decode(bytes);
    // Deno's fatal decoder is several times slower (150 ms for a 12 MB config of 100,000
    // files): decode leniently, and strictly only when a U+FFFD shows up.
    if (text.includes("\uFFFD")) text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw fail("not valid UTF-8 text; save the file as UTF-8");
  }
  return await parseConfig(text, configPath);
}
