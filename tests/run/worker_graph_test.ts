/**
 * The upload worker loads no `node:` module before its first file (dynamic
 * imports aside: FTPS, legacy code pages and active mode load theirs when
 * used): the first `node:` import of an isolate sets up Node compatibility,
 * which costs every worker of every run CPU (`docs/benchmarks.md`).
 */
import assert from "node:assert/strict";

interface InfoModule {
  specifier: string;
  dependencies?: { code?: { specifier: string }; isDynamic?: boolean }[];
}

Deno.test("upload worker: no node: module among its static imports", async () => {
  const worker = new URL("../../workers/upload_worker.ts", import.meta.url);
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", worker.href],
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
  const found: string[] = [];
  const stack = [...info.roots];
  while (stack.length > 0) {
    const at = stack.pop()!;
    if (seen.has(at)) continue;
    seen.add(at);
    for (const dep of modules.get(at)?.dependencies ?? []) {
      const to = dep.code?.specifier;
      if (!to || dep.isDynamic) continue;
      if (to.startsWith("node:")) found.push(`${at.split("/src/").pop()} -> ${to}`);
      else stack.push(to);
    }
  }
  assert.ok(seen.size > 10, "the worker's graph was read");
  assert.deepEqual(found, []);
});
