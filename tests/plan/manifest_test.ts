/** The deploy manifest's format, roots and when an entry counts (`plan/manifest.ts`). */
import assert from "node:assert/strict";
import {
  entryHolds,
  manifestName,
  ManifestRoots,
  parseManifest,
  serializeManifest,
} from "../../src/plan/manifest.ts";

const SHA = "a".repeat(64);

Deno.test("manifest: round trip, sorted, one entry a line; junk reads as empty", () => {
  const m = new Map([
    ["b/c.txt", { sha256: SHA, size: 3, remoteSize: 3, remoteMtimeMs: 1000 }],
    ["a.txt", { sha256: SHA, size: 1, remoteSize: 1 }],
  ]);
  const text = serializeManifest(m);
  assert.ok(text.indexOf('"a.txt"') < text.indexOf('"b/c.txt"'));
  assert.deepEqual(parseManifest(new TextEncoder().encode(text)), m);
  for (const junk of ["", "{", "[]", '{"version":2,"files":{}}', '{"version":1}']) {
    assert.equal(parseManifest(new TextEncoder().encode(junk)).size, 0, junk);
  }
  // A bad entry is left out, the others kept.
  const mixed = '{"version":1,"files":{"x":{"sha256":"zz","size":1,"remoteSize":1},' +
    `"y":{"sha256":"${SHA}","size":1,"remoteSize":1}}}`;
  assert.deepEqual([...parseManifest(new TextEncoder().encode(mixed)).keys()], ["y"]);
});

Deno.test("manifest: an entry holds only while the listing shows its size and time", () => {
  const e = { sha256: SHA, size: 5, remoteSize: 5, remoteMtimeMs: 60_000 };
  const listed = { type: "file" as const, size: 5, mtimeMs: 60_000, precision: "minute" as const };
  assert.ok(entryHolds(e, listed));
  assert.ok(!entryHolds(e, { ...listed, size: 6 }));
  assert.ok(!entryHolds(e, { ...listed, mtimeMs: 120_000 }));
  assert.ok(!entryHolds(e, { ...listed, mtimeMs: undefined }));
  assert.ok(!entryHolds(e, undefined));
  assert.ok(!entryHolds(e, { ...listed, type: "dir" }));
  const { remoteMtimeMs: _, ...noTime } = e;
  assert.ok(entryHolds(noTime, { ...listed, mtimeMs: undefined }));
});

Deno.test("manifest: roots (a tree's manifest covers what is inside it), names per shard", () => {
  const roots = new ManifestRoots(["/site/blog", "/site", "/other", "/site/x"]);
  assert.deepEqual(roots.roots.sort(), ["/other", "/site"]);
  assert.equal(roots.rootOf("/site/blog/a.html"), "/site");
  assert.equal(roots.rootOf("/sitemap.xml"), undefined);
  assert.equal(roots.relOf("/site", "/site/blog/a.html"), "blog/a.html");
  assert.equal(new ManifestRoots(["/", "/a"]).rootOf("/a/b"), "/");
  assert.equal(manifestName(), ".ftpbatch-manifest.json");
  assert.equal(manifestName({ index: 2, count: 8 }), ".ftpbatch-manifest.2of8.json");
});
