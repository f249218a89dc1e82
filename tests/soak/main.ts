/**
 * `deno task soak --seeds N [--from S] [--server embedded|vsftpd]`: runs the
 * soak (`tests/helpers/soak.ts`) for seeds S..S+N-1 one after another and
 * prints a line per seed (faults injected, files uploaded, wall time, whether
 * the run ended, any problem) and a summary. Exit 1 when any run did not end,
 * left a file wrong or torn, or failed another check.
 *
 * @module
 */

import { seedLine, type SeedResult, soakSeed, type SoakServer, summary } from "../helpers/soak.ts";

function flag(name: string, fallback: string): string {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 && Deno.args[i + 1] !== undefined ? Deno.args[i + 1] : fallback;
}

const seeds = Number(flag("seeds", "20"));
const from = Number(flag("from", "1"));
const server = flag("server", "embedded") as SoakServer;
if (!Number.isInteger(seeds) || seeds < 1 || !Number.isInteger(from)) {
  console.error("usage: deno task soak --seeds N [--from S] [--server embedded|vsftpd]");
  Deno.exit(2);
}
if (server !== "embedded" && server !== "vsftpd") {
  console.error(`--server: embedded or vsftpd, not ${server}`);
  Deno.exit(2);
}

const results: SeedResult[] = [];
let harness = 0;
const started = performance.now();
for (let seed = from; seed < from + seeds; seed++) {
  // A server that would not start (the machine under load) is the harness's trouble, not the
  // run's: tried once more, then counted apart.
  let r: SeedResult | undefined;
  for (let i = 0; i < 2 && !r; i++) {
    try {
      r = await soakSeed(seed, server);
    } catch (e) {
      console.log(`seed ${seed} (${server}): harness error: ${(e as Error).message}`);
    }
  }
  if (!r) {
    harness++;
    continue;
  }
  results.push(r);
  console.log(seedLine(r));
}
console.log(
  summary(results, performance.now() - started) + (harness ? `, harness errors ${harness}` : ""),
);
const bad = results.some((r) =>
  !r.ended || r.wrong.length > 0 || r.torn.length > 0 || r.problems.length > 0
);
Deno.exit(bad ? 1 : 0);
