/**
 * The static import graph of a module, as `deno info --json` gives it: what
 * a process or worker loads before its code runs (dynamic imports left out).
 * For the start-up tests (`tests/cli/startup_graph_test.ts`,
 * `tests/run/worker_graph_test.ts`).
 */
import assert from "node:assert/strict";

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier?: string }; isDynamic?: boolean; typeOnly?: boolean }[];
}

/** Every static, non-type import reachable from `root`, as `[importer, imported]`. */
export async function staticImports(root: URL): Promise<[string, string][]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", root.href],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    roots: string[];
    modules: InfoModule[];
  };
  const modules = new Map(info.modules.map((m) => [m.specifier, m]));
  const seen = new Set<string>();
  const edges: [string, string][] = [];
  const stack = [...info.roots];
  while (stack.length > 0) {
    const at = stack.pop()!;
    if (seen.has(at)) continue;
    seen.add(at);
    for (const dep of modules.get(at)?.dependencies ?? []) {
      const to = dep.code?.specifier;
      if (!to || dep.isDynamic || dep.typeOnly) continue;
      edges.push([at, to]);
      stack.push(to);
    }
  }
  return edges;
}
