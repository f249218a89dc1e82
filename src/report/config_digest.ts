/**
 * Identifies a run's whole effective config, so `report merge` can refuse
 * shard reports run under different settings (another `include`, `exclude`
 * or `source`, another skip rule, another server). Left out: what may differ
 * between the machines of one sharded job without changing which files go
 * where or how (the password, `workers`, the report and lock paths, the
 * shard itself). Sources inside the config's folder count by their path
 * relative to it, so two checkouts of one repository at different places
 * agree.
 *
 * @module
 */

import { dirname, isAbsolute, relative } from "node:path";
import type { Config } from "../config/types.ts";
import { sha256Hex } from "../plan/shard.ts";

/** SHA-256 (hex) of the settings that decide which files go where, and how. */
export async function configDigest(config: Config): Promise<string> {
  const { server, options, files } = config;
  const base = dirname(config.configPath);
  const where = (source: string) => {
    const rel = relative(base, source);
    return rel && !rel.startsWith("..") && !isAbsolute(rel) ? rel : source;
  };
  const settings = {
    server: {
      host: server.host,
      port: server.port,
      user: server.user ?? null,
      secure: server.secure,
      encoding: server.encoding,
    },
    options: {
      retries: options.retries,
      atomic: options.atomic,
      verify: options.verify,
      skip: options.skip,
      backoffBaseMs: options.backoffBaseMs,
      backoffMaxMs: options.backoffMaxMs,
      timeoutMs: options.timeoutMs,
    },
    files: files.map((f) => ({
      source: where(f.source),
      destination: f.destination,
      folderDestination: f.folderDestination ?? null,
      tree: f.tree
        ? {
          include: f.tree.include,
          exclude: f.tree.exclude,
          followSymlinks: f.tree.followSymlinks,
        }
        : null,
    })),
  };
  return await sha256Hex(JSON.stringify(settings));
}
