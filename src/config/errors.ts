/**
 * `ConfigError`: everything wrong with a config, one problem per line, each
 * naming where it is (`files[3].source`). The CLI turns it into exit code 2.
 *
 * @module
 */

/** One thing wrong with a config. */
export interface ConfigProblem {
  /**
   * Where: `server.port`, `files[12].destination`, or `(root)`, `(json)`,
   * `(file)` for the whole document, its syntax, or the file itself.
   */
  path: string;
  /** What is wrong and what to do. */
  message: string;
}

/**
 * Thrown for an invalid config. The message lists every problem, one per
 * line: `<configPath>: files[3].source: <what is wrong and what to do>`.
 */
export class ConfigError extends Error {
  readonly problems: ConfigProblem[];
  /** The config file the problems are in; "" when not known. */
  readonly configPath: string;

  constructor(problems: ConfigProblem[], configPath = "") {
    const prefix = configPath ? `${configPath}: ` : "";
    super(problems.map((p) => `${prefix}${p.path}: ${p.message}`).join("\n"));
    this.name = "ConfigError";
    this.problems = problems;
    this.configPath = configPath;
  }
}
