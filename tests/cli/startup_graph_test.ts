/**
 * What `main.ts upload` loads before it can send a byte: the static import
 * graph of `src/cli/main.ts`. npm packages and `node:crypto` cost tens of
 * milliseconds each at start-up (picomatch, a CommonJS package, brings in
 * Node's module loader), so they load only when a run needs them: globs,
 * `skip: "hash"`, FTPS, a legacy code page (see `docs/benchmarks.md`).
 */

import assert from "node:assert/strict";

const ROOT = new URL("../../src/cli/main.ts", import.meta.url).href;

interface InfoModule {
  specifier: string;
  dependencies?: {
    code?: { specifier?: string };
    isDynamic?: boolean;
    typeOnly?: boolean;
  }[];
}

/** Specifiers reachable from `root` by static, non-type imports. */
async function staticGraph(root: string): Promise<Set<string>> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
  };
  const bySpecifier = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const todo = [info.roots[0]];
  while (todo.length > 0) {
    const s = todo.pop()!;
    if (seen.has(s)) continue;
    seen.add(s);
    for (const d of bySpecifier.get(s)?.dependencies ?? []) {
      const next = d.code?.specifier;
      if (next && !d.isDynamic && !d.typeOnly) todo.push(next);
    }
  }
  return seen;
}

Deno.test("start-up: the CLI's static imports hold no npm package and no node:crypto", async () => {
  const graph = await staticGraph(ROOT);
  assert.ok(graph.size > 50, `the graph looks truncated (${graph.size} modules)`);
  const heavy = [...graph].filter((s) => s.startsWith("npm:") || s === "node:crypto");
  assert.deepEqual(heavy, []);
});
