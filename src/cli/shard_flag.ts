/**
 * Where `upload` finds its shard: `--shard K/N`, or the environment, so a
 * Kubernetes indexed Job (which sets `JOB_COMPLETION_INDEX` in every pod) or
 * any other scheduler needs no wrapper script. Wrong values are a
 * `UsageError` (exit 2) before anything is read or sent.
 *
 * @example
 * ```ts
 * shardFromCli(undefined, (n) => ({ FTPBATCH_SHARD_COUNT: "4", JOB_COMPLETION_INDEX: "2" })[n]);
 * // { index: 2, count: 4 }
 * ```
 *
 * @module
 */

import type { Shard } from "../config/types.ts";
import { parseShard } from "../plan/shard.ts";
import { UsageError } from "./args.ts";

/** The environment variables read, by role. */
export const SHARD_ENV = {
  /** Number of shards N. Setting it is what turns sharding on from the environment. */
  count: "FTPBATCH_SHARD_COUNT",
  /** Shard index K, for any scheduler (Nomad: `${NOMAD_ALLOC_INDEX}`, CI matrix). */
  index: "FTPBATCH_SHARD_INDEX",
  /** Set by Kubernetes in every pod of an indexed Job; used when the index above is not set. */
  jobIndex: "JOB_COMPLETION_INDEX",
} as const;

/**
 * `--shard` wins over the environment. `JOB_COMPLETION_INDEX` alone does not
 * shard: an indexed Job may run different configs per index; the count
 * variable says the config is split.
 */
export function shardFromCli(
  flag: string | undefined,
  env: (name: string) => string | undefined,
): Shard | undefined {
  if (flag !== undefined) return check(parseShard(flag), "--shard");
  const count = env(SHARD_ENV.count);
  const explicit = env(SHARD_ENV.index);
  if (count === undefined || count === "") {
    if (explicit !== undefined && explicit !== "") {
      throw new UsageError(
        `${SHARD_ENV.index} is set but ${SHARD_ENV.count} is not; set both (or use --shard K/N)`,
      );
    }
    return undefined;
  }
  const fromJob = explicit === undefined || explicit === "";
  const index = fromJob ? env(SHARD_ENV.jobIndex) : explicit;
  if (index === undefined || index === "") {
    throw new UsageError(
      `${SHARD_ENV.count} is set but neither ${SHARD_ENV.index} nor ${SHARD_ENV.jobIndex} is; ` +
        "set the shard index (or use --shard K/N)",
    );
  }
  const source = `${fromJob ? SHARD_ENV.jobIndex : SHARD_ENV.index}/${SHARD_ENV.count}`;
  return check(parseShard(`${index}/${count}`), `the shard from ${source} (${index}/${count})`);
}

function check(result: Shard | string, what: string): Shard {
  if (typeof result === "string") throw new UsageError(`${what} ${result}`);
  return result;
}
