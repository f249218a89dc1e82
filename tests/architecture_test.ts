/**
 * The architecture, checked: the module graph of `main.ts` and of the worker
 * (`deno info --json`, dynamic and type-only imports included) has no import
 * cycle, and every import points down the layer order
 * main > cli > run (and the worker shell) > plan/report/config > upload > ftp;
 * `src/server/` (the embedded server) is imported by `src/cli/` only.
 *
 * @module
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { relative } from "node:path";

const ROOT = fileURLToPath(new URL("../", import.meta.url));

/** Module -> the modules it imports (project files only, paths relative to the repo). */
export type Graph = Map<string, string[]>;

/** Layer rank: an import may go to the same rank or a higher number, never a lower one. */
const RANKS: [prefix: string, rank: number][] = [
  ["main.ts", 0],
  ["src/cli/", 1],
  ["src/server/", 2],
  ["src/run/", 3],
  ["workers/", 3],
  ["src/plan/", 4],
  ["src/report/", 4],
  ["src/config/", 4],
  ["src/upload/", 5],
  ["src/ftp/", 6],
];

/** Edges left out of the cycle check, each with its reason. Keep this empty. */
const KNOWN_CYCLE_EDGES = new Set<string>([]);

/** The graph without the edges in `skip` (`"a -> b"`). */
function without(graph: Graph, skip: Set<string>): Graph {
  return new Map(
    [...graph].map(([from, deps]) => [from, deps.filter((to) => !skip.has(`${from} -> ${to}`))]),
  );
}

/** Only these may import `src/server/`. */
const SERVER_USERS = ["src/cli/", "src/server/"];

function rankOf(path: string): number | undefined {
  return RANKS.find(([prefix]) => path === prefix || path.startsWith(prefix))?.[1];
}

/** One cycle (`[a, b, …, a]`) if the graph has any, else `undefined`. */
export function findCycle(graph: Graph): string[] | undefined {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const visit = (node: string): string[] | undefined => {
    state.set(node, "open");
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === "open") return [...stack.slice(stack.indexOf(next)), next];
      if (!state.has(next)) {
        const found = visit(next);
        if (found) return found;
      }
    }
    stack.pop();
    state.set(node, "done");
    return undefined;
  };
  for (const node of graph.keys()) {
    if (!state.has(node)) {
      const found = visit(node);
      if (found) return found;
    }
  }
  return undefined;
}

/** Up to `max` cycles: each found one's closing edge is dropped and the search goes on. */
export function allCycles(graph: Graph, max = 20): string[][] {
  let g = graph;
  const cycles: string[][] = [];
  for (let cycle = findCycle(g); cycle && cycles.length < max; cycle = findCycle(g)) {
    cycles.push(cycle);
    g = without(g, new Set([`${cycle.at(-2)} -> ${cycle.at(-1)}`]));
  }
  return cycles;
}

/** Every import that points up the layers, into `src/server/` from outside the CLI, or out of any layer. */
export function layerViolations(graph: Graph): string[] {
  const problems: string[] = [];
  for (const [from, deps] of graph) {
    const fromRank = rankOf(from);
    if (fromRank === undefined) problems.push(`${from}: in no layer; add its folder to RANKS`);
    for (const to of deps) {
      const toRank = rankOf(to);
      if (toRank === undefined || fromRank === undefined) continue;
      if (to.startsWith("src/server/") && !SERVER_USERS.some((p) => from.startsWith(p))) {
        problems.push(`${from} -> ${to}: the embedded server is for the CLI only`);
      } else if (toRank < fromRank) {
        problems.push(`${from} -> ${to}: imports a higher layer`);
      }
    }
  }
  return problems;
}

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; type?: { specifier: string } }[];
}

/** The project-file import graph reachable from `entry`, via `deno info --json`. */
async function moduleGraph(entry: string): Promise<Graph> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", entry],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as { modules: InfoModule[] };
  const local = (specifier: string) =>
    specifier.startsWith("file:") ? relative(ROOT, fileURLToPath(specifier)) : undefined;
  const graph: Graph = new Map();
  for (const m of info.modules) {
    const from = local(m.specifier);
    if (from === undefined) continue;
    const deps = (m.dependencies ?? []).flatMap((d) =>
      [d.code?.specifier, d.type?.specifier].flatMap((s) => {
        const to = s === undefined ? undefined : local(s);
        return to === undefined ? [] : [to];
      })
    );
    graph.set(from, [...new Set(deps)]);
  }
  return graph;
}

for (const entry of ["main.ts", "workers/upload_worker.ts", "workers/stat_worker.ts"]) {
  Deno.test(`${entry}: no import cycle, every import points down the layers`, async () => {
    const graph = await moduleGraph(entry);
    assert.ok(graph.size > 5, `graph of ${entry} looks empty: ${[...graph.keys()]}`);
    const cycles = allCycles(without(graph, KNOWN_CYCLE_EDGES)).map((c) => c.join(" -> "));
    assert.deepEqual(cycles, [], `import cycles:\n${cycles.join("\n")}`);
    assert.deepEqual(layerViolations(graph), []);
  });
}

Deno.test("the graph walk covers dynamic imports (serve, demo) and the embedded server", async () => {
  const graph = await moduleGraph("main.ts");
  for (const m of ["src/cli/serve.ts", "src/cli/demo.ts", "src/server/embedded_server.ts"]) {
    assert.ok(graph.has(m), m);
  }
});

Deno.test("findCycle finds a cycle in a small graph and none in a tree", () => {
  const g = (edges: Record<string, string[]>): Graph => new Map(Object.entries(edges));
  assert.deepEqual(findCycle(g({ a: ["b"], b: ["c"], c: ["a"] })), ["a", "b", "c", "a"]);
  assert.deepEqual(findCycle(g({ a: ["b", "d"], b: ["c"], c: [], d: ["d"] })), ["d", "d"]);
  assert.deepEqual(findCycle(g({ x: ["a"], a: ["b"], b: ["c"], c: ["b"] })), ["b", "c", "b"]);
  assert.equal(findCycle(g({ a: ["b", "c"], b: ["c"], c: [] })), undefined);
});

Deno.test("layerViolations catches upward imports, server use outside the CLI, files in no layer", () => {
  const g = (edges: Record<string, string[]>): Graph => new Map(Object.entries(edges));
  assert.deepEqual(
    layerViolations(g({
      "src/ftp/session.ts": ["src/upload/job.ts"],
      "src/plan/plan.ts": ["src/run/pool/messages.ts", "src/config/types.ts"],
      "src/run/coordinator.ts": ["src/server/embedded_server.ts", "src/plan/plan.ts"],
      "src/cli/demo.ts": ["src/server/embedded_server.ts", "src/ftp/server_text.ts"],
      "src/misc/x.ts": [],
    })),
    [
      "src/ftp/session.ts -> src/upload/job.ts: imports a higher layer",
      "src/plan/plan.ts -> src/run/pool/messages.ts: imports a higher layer",
      "src/run/coordinator.ts -> src/server/embedded_server.ts: the embedded server is for the CLI only",
      "src/misc/x.ts: in no layer; add its folder to RANKS",
    ],
  );
});
