/**
 * The deploy keys of a config: `delete` and `keep` on a folder entry,
 * `options.maxDelete`, `options.skip: "hash"`, `options.remoteLock` and
 * `options.remoteLockTtlMs`; each bad value named by its JSON path.
 */
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/errors.ts";
import { validateConfig } from "../../src/config/validate.ts";

const base = (files: unknown[], options: Record<string, unknown> = {}) => ({
  server: { host: "ftp.example.com" },
  options,
  files,
});

async function problems(doc: unknown): Promise<string[]> {
  try {
    await validateConfig(doc, "/srv/c.json");
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    return e.problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}

Deno.test("deploy keys: valid ones are read", async () => {
  const c = await validateConfig(
    base(
      [{ source: "site/", destination: "/s", delete: true, keep: ["uploads/**", ".htaccess"] }],
      { maxDelete: 20, skip: "hash", remoteLock: "/s/.ftpbatch-lock", remoteLockTtlMs: 60_000 },
    ),
    "/srv/c.json",
  );
  assert.deepEqual(c.files[0].tree?.mirror, { keep: ["uploads/**", ".htaccess"] });
  assert.deepEqual(
    [c.options.maxDelete, c.options.skip, c.options.remoteLock, c.options.remoteLockTtlMs],
    [20, "hash", "/s/.ftpbatch-lock", 60_000],
  );
  const plain = await validateConfig(base([{ source: "site/", destination: "/s" }]), "/x.json");
  assert.equal(plain.files[0].tree?.mirror, undefined);
  assert.equal(plain.options.maxDelete, undefined);
  assert.equal(plain.options.remoteLockTtlMs, undefined);
  const on = await validateConfig(
    base([{ source: "a", destination: "/a" }], { remoteLock: true }),
    "/x.json",
  );
  assert.equal(on.options.remoteLock, true);
});

Deno.test("deploy keys: bad values name their JSON path", async () => {
  const got = await problems(base(
    [
      { source: "site/", destination: "/s", delete: "yes" },
      { source: "b/", destination: "/b", keep: ["x/**"] },
      { source: "c/", destination: "/c", delete: true, keep: ["/abs", 3, "[bad"] },
    ],
    { maxDelete: -1, skip: "content", remoteLock: "relative/lock", remoteLockTtlMs: 5 },
  ));
  const paths = got.map((p) => p.split(":")[0]);
  for (
    const p of [
      "files[0].delete",
      "files[1].keep",
      "files[2].keep[0]",
      "files[2].keep[1]",
      "files[2].keep[2]",
      "options.maxDelete",
      "options.skip",
      "options.remoteLock",
      "options.remoteLockTtlMs",
    ]
  ) assert.ok(paths.includes(p), `${p} in ${got.join("\n")}`);
  assert.ok(got.some((p) => /files\[1\]\.keep: only means something with "delete": true/.test(p)));
  assert.ok(got.some((p) => /options\.skip: .*"hash"/.test(p)));
});

Deno.test("deploy keys: delete on a file entry is refused at source-check time, not silently", async () => {
  // "delete" declares a folder entry, as "include" does.
  const c = await validateConfig(
    base([{ source: "a.txt", destination: "/a", delete: true }]),
    "/x.json",
  );
  assert.equal(c.files[0].tree?.declaredBy, "delete");
});
