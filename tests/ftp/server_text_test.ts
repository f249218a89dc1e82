import { deepStrictEqual as assertEquals } from "node:assert/strict";
import { safeText } from "../../src/ftp/server_text.ts";

Deno.test("safeText escapes control characters, ESC and BEL included, and keeps one line", () => {
  assertEquals(safeText("550 \x1b]0;pwned\x07no\r\nx"), "550 \\x1b]0;pwned\\x07no\\x0d\\x0ax");
  assertEquals(safeText("café ☕ План"), "café ☕ План");
});

Deno.test("safeText replaces every occurrence of each secret", () => {
  assertEquals(safeText("530 pw s3cr3t s3cr3t", ["s3cr3t", undefined, ""]), "530 pw *** ***");
});
