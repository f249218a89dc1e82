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

if (import.meta.main) {
  // Upload workers run in this isolate (`src/run/pool/inline_worker.ts`): none to start early.
  const { main } = await import("./src/cli/main.ts");
  Deno.exit(await main(Deno.args));
}
