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
