/**
 * The upload worker loads no `node:` module before its first file (dynamic
 * imports aside: FTPS, legacy code pages and active mode load theirs when
 * used): the first `node:` import of an isolate sets up Node compatibility,
 * which costs every worker of every run CPU (`docs/benchmarks.md`).
 */
import assert from "node:assert/strict";
import { staticImports } from "../helpers/module_graph.ts";

Deno.test("upload worker: no node: module among its static imports", async () => {
  const edges = await staticImports(new URL("../../workers/upload_worker.ts", import.meta.url));
  assert.ok(edges.length > 10, "the worker's graph was read");
  const found = edges.filter(([, to]) => to.startsWith("node:"))
    .map(([at, to]) => `${at.split("/src/").pop()} -> ${to}`);
  assert.deepEqual(found, []);
});
