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

import { main } from "./src/cli/main.ts";

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
