/**
 * The README and `docs/` stay usable: the README fits on a page (16 KB) and every
 * relative link in them leads somewhere: the file exists and, for `#anchor`, the
 * target has a heading with that GitHub slug.
 *
 * @module
 */

import assert from "node:assert/strict";
import { dirname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("../", import.meta.url));
const README_LIMIT = 16 * 1024;

/** The Markdown files to check: the README and every page under `docs/`. */
function pages(): string[] {
  const docs = [...Deno.readDirSync(join(ROOT, "docs"))]
    .filter((e) => e.isFile && e.name.endsWith(".md"))
    .map((e) => join("docs", e.name))
    .sort();
  return ["README.md", ...docs];
}

/** Text outside fenced code blocks and inline code, where links are links. */
function prose(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, "").replace(/`[^`\n]*`/g, "");
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .replace(/`/g, "")
    .replace(/\[([^\]]*)\]\([^)]*\)/g, "$1")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const out = new Set<string>();
  for (const m of markdown.replace(/^```[\s\S]*?^```/gm, "").matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = slug(m[1]);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  }
  return out;
}

/** Every relative link target of a page: `[text](target)`, web and mail links left out. */
function links(markdown: string): string[] {
  return [...prose(markdown).matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

/** What is wrong with the links of `page` (a path relative to `root`). */
function problems(root: string, page: string): string[] {
  const text = Deno.readTextFileSync(join(root, page));
  const found: string[] = [];
  for (const target of links(text)) {
    const [path, anchor] = target.split("#", 2);
    const file = path === "" ? join(root, page) : normalize(join(root, dirname(page), path));
    let isFile = false;
    try {
      isFile = Deno.statSync(file).isFile;
    } catch {
      found.push(`${page}: ${target}: no such file or folder`);
      continue;
    }
    if (anchor === undefined) continue;
    if (!isFile || !file.endsWith(".md")) {
      found.push(`${page}: ${target}: an anchor into something that is not a Markdown file`);
    } else if (!anchors(Deno.readTextFileSync(file)).has(anchor)) {
      found.push(`${page}: ${target}: no heading with that anchor`);
    }
  }
  return found;
}

Deno.test("docs: the README fits on a page (at most 16 KB)", () => {
  const size = Deno.statSync(join(ROOT, "README.md")).size;
  assert.ok(size <= README_LIMIT, `README.md is ${size} bytes; move details into docs/`);
});

Deno.test("docs: every relative link in README.md and docs/*.md resolves", () => {
  const all = pages();
  assert.ok(all.length > 5, `found ${all.join(", ")}`);
  assert.deepEqual(all.flatMap((page) => problems(ROOT, page)), []);
});

Deno.test("docs: the link check catches a missing file and a missing anchor", () => {
  const dir = Deno.makeTempDirSync();
  try {
    Deno.mkdirSync(join(dir, "docs"));
    Deno.writeTextFileSync(join(dir, "docs", "a.md"), "# Top\n\n## Re-runs: what `x` does\n");
    Deno.writeTextFileSync(
      join(dir, "README.md"),
      "[ok](docs/a.md#re-runs-what-x-does) [gone](docs/b.md) [bad](docs/a.md#nope)\n" +
        "`[code](c.md)` [web](https://example.com/x.md) [self](#top)\n# Top\n",
    );
    assert.deepEqual(problems(dir, "README.md"), [
      "README.md: docs/b.md: no such file or folder",
      "README.md: docs/a.md#nope: no heading with that anchor",
    ]);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
