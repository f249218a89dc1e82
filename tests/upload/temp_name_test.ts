import assert from "node:assert/strict";
import { fingerprint, TEMP_MARK, tempPathFor } from "../../src/upload/temp_name.ts";

Deno.test("tempPathFor: hidden sibling in the same folder, marked, with the fingerprint", () => {
  const p = tempPathFor("/a/б/План.txt", 1234, 1700000000123.7);
  assert.equal(p, `/a/б/.План.txt${TEMP_MARK}${fingerprint(1234, 1700000000123)}.part`);
  assert.ok(p.startsWith("/a/б/.План.txt"));
});

Deno.test("tempPathFor changes when the local size or mtime changes", () => {
  const a = tempPathFor("/x.bin", 10, 1000);
  assert.notEqual(a, tempPathFor("/x.bin", 11, 1000));
  assert.notEqual(a, tempPathFor("/x.bin", 10, 2000));
  assert.equal(a, tempPathFor("/x.bin", 10, 1000.9));
});

Deno.test("tempPathFor: a long name keeps its temp name within 255 bytes of UTF-8, shape kept", () => {
  const bytes = (s: string) => new TextEncoder().encode(s).length;
  // 83 three-byte characters + ".t" = 251 bytes: the old temp name was ~280 bytes.
  const long = "日".repeat(83) + ".t";
  const p = tempPathFor(`/d/${long}`, 123456789, 1700000000000);
  const name = p.slice("/d/".length);
  assert.ok(bytes(name) <= 255, `${bytes(name)} bytes`);
  assert.ok(name.startsWith(".日"));
  assert.ok(name.endsWith(`${TEMP_MARK}${fingerprint(123456789, 1700000000000)}.part`));
  assert.ok(!name.includes("\ufffd"), "no character split");
  // Two long names sharing the kept prefix still get different temp names.
  assert.notEqual(p, tempPathFor(`/d/${"日".repeat(83)}.u`, 123456789, 1700000000000));
  // A short name is unchanged.
  assert.equal(tempPathFor("/d/a.txt", 1, 0), `/d/.a.txt${TEMP_MARK}${fingerprint(1, 0)}.part`);
});
