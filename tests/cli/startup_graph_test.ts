/**
 * What `main.ts upload` loads before it can send a byte: the static import
 * graph of `src/cli/main.ts`. npm packages and `node:crypto` cost tens of
 * milliseconds each at start-up (picomatch, a CommonJS package, brings in
 * Node's module loader), so they load only when a run needs them: globs,
 * `skip: "hash"`, FTPS, a legacy code page (see `docs/benchmarks.md`).
 */

import assert from "node:assert/strict";
import { staticImports } from "../helpers/module_graph.ts";

Deno.test("start-up: the CLI's static imports hold no npm package and no node:crypto", async () => {
  const edges = await staticImports(new URL("../../src/cli/main.ts", import.meta.url));
  assert.ok(edges.length > 50, `the graph looks truncated (${edges.length} imports)`);
  const heavy = edges.filter(([, to]) => to.startsWith("npm:") || to === "node:crypto")
    .map(([at, to]) => `${at.split("/src/").pop()} -> ${to}`);
  assert.deepEqual(heavy, []);
});
