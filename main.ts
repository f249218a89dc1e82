/**
 * ftpbatch: uploads many local files to an FTP server in parallel, exactly as
 * a JSON config says, and proves what it did in a report.
 *
 * @example
 * ```sh
 * deno task upload fixtures/demo.json --workers 8 --report out.json
 * ```
 *
 * @module
 */

import { startEarly } from "./src/run/pool/warm_workers.ts";

if (import.meta.main) {
  // An upload's first worker loads beside the rest of the program (`warm_workers.ts`):
  // hence the command line is imported after it starts, not before.
  const [command, ...rest] = Deno.args;
  if (command === "upload" && !rest.some((a) => ["--dry-run", "--help", "-h"].includes(a))) {
    startEarly(new URL("./workers/upload_worker.ts", import.meta.url));
  }
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
