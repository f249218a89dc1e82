/**
 * The reply parser without sockets: replies come out whole and in order
 * however the bytes are split, and a line or a reply over its cap, or an
 * unreadable one, is a ProtocolError.
 */

import assert from "node:assert/strict";
import { ProtocolError } from "../../src/ftp/errors.ts";
import type { Reply } from "../../src/ftp/reply.ts";
import {
  MAX_LINE,
  MAX_REPLY_CHARS,
  MAX_REPLY_LINES,
  ReplyParser,
} from "../../src/ftp/reply_parser.ts";

const encode = (text: string) => new TextEncoder().encode(text);

/** Every reply `bytes` holds, fed in pieces cut at `cuts`. */
function parse(bytes: Uint8Array, cuts: number[], parser = new ReplyParser()): Reply[] {
  const replies: Reply[] = [];
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    parser.push(bytes.subarray(from, to));
    from = to;
    for (let r = parser.next(); r; r = parser.next()) replies.push(r);
  }
  return replies;
}

const STREAM = "150 Opening\r\n" +
  "211-Features:\r\n MDTM\r\n226 inside, not the end\r\n211-still inside\r\n211 End\r\n" +
  "550 Фото/отпуск.jpg: нет такого файла\r\n" +
  "257-\r\n257 bare dash line\n" +
  "230 no CR\n";

const EXPECTED: Reply[] = [
  { code: 150, message: "150 Opening" },
  {
    code: 211,
    message: "211-Features:\n MDTM\n226 inside, not the end\n211-still inside\n211 End",
  },
  { code: 550, message: "550 Фото/отпуск.jpg: нет такого файла" },
  { code: 257, message: "257-\n257 bare dash line" },
  { code: 230, message: "230 no CR" },
];

Deno.test("replies come out whole whatever the split (every one- and two-cut split)", () => {
  const bytes = encode(STREAM);
  assert.deepEqual(parse(bytes, []), EXPECTED);
  for (let a = 0; a <= bytes.length; a++) {
    assert.deepEqual(parse(bytes, [a]), EXPECTED, `cut at ${a}`);
    for (let b = a; b <= bytes.length; b += 7) {
      assert.deepEqual(parse(bytes, [a, b]), EXPECTED, `cuts at ${a}, ${b}`);
    }
  }
});

Deno.test("byte by byte: a multi-byte character split between reads is decoded whole", () => {
  const bytes = encode(STREAM);
  assert.deepEqual(parse(bytes, Array.from({ length: bytes.length }, (_, i) => i)), EXPECTED);
});

Deno.test("a bare `ddd` ends a multi-line reply; what follows is the next reply", () => {
  const replies = parse(encode("211-a\r\n 211 not yet\r\n211\r\n211 End\r\n"), []);
  assert.deepEqual(replies, [
    { code: 211, message: "211-a\n 211 not yet\n211" },
    { code: 211, message: "211 End" },
  ]);
});

Deno.test("buffered: nothing, part of a reply, or a whole one not taken yet", () => {
  const parser = new ReplyParser();
  assert.equal(parser.buffered, false);
  parser.push(encode("211-Features:\r\n"));
  assert.equal(parser.next(), undefined);
  assert.equal(parser.buffered, true, "a multi-line reply under way");
  assert.equal(parser.head, "211-Features:");
  parser.push(encode("211 End\r\n226 unasked\r\n"));
  assert.equal(parser.next()?.code, 211);
  assert.equal(parser.buffered, true, "a reply nobody asked for yet");
  assert.equal(parser.next()?.code, 226);
  assert.equal(parser.buffered, false);
});

Deno.test("a line of MAX_LINE characters with its CR is taken; one more is a ProtocolError", () => {
  const ok = "220 " + "a".repeat(MAX_LINE - 5);
  assert.deepEqual(parse(encode(ok + "\r\n"), []), [{ code: 220, message: ok }]);
  const parser = new ReplyParser();
  parser.push(encode(ok + "a\r\n"));
  assert.throws(
    () => parser.next(),
    (e) => e instanceof ProtocolError && /reply line over/.test(e.message),
  );
});

Deno.test("an endless line fails as soon as it is over the cap, before its end comes", () => {
  const parser = new ReplyParser();
  parser.push(encode("220 " + "a".repeat(MAX_LINE - 4)));
  assert.equal(parser.next(), undefined, "exactly at the cap: may still end");
  parser.push(encode("a"));
  assert.throws(() => parser.next(), ProtocolError);
});

Deno.test("a reply of MAX_REPLY_LINES lines is taken; an endless one fails at the cap", () => {
  const inside = Array.from({ length: MAX_REPLY_LINES - 2 }, (_, i) => ` line ${i}`);
  const whole = ["211-start", ...inside, "211 End"].join("\r\n") + "\r\n";
  assert.equal(parse(encode(whole), [])[0].message.split("\n").length, MAX_REPLY_LINES);
  const parser = new ReplyParser();
  parser.push(encode(["211-start", ...inside, " one more"].join("\r\n") + "\r\n"));
  assert.throws(
    () => parser.next(),
    (e) => e instanceof ProtocolError && /over 500 lines/.test(e.message),
  );
});

Deno.test("a reply over MAX_REPLY_CHARS characters fails (few, long lines)", () => {
  const line = " " + "x".repeat(4000);
  const lines = Array.from({ length: Math.ceil(MAX_REPLY_CHARS / line.length) + 1 }, () => line);
  const parser = new ReplyParser();
  parser.push(encode(["213-start", ...lines].join("\r\n") + "\r\n"));
  assert.throws(() => parser.next(), ProtocolError);
});

Deno.test("a reply that does not start with three digits is a ProtocolError", () => {
  for (const bad of ["hello\r\n", "22 short\r\n", "\r\n"]) {
    const parser = new ReplyParser();
    parser.push(encode(bad));
    assert.throws(
      () => parser.next(),
      (e) => e instanceof ProtocolError && /unreadable/.test(e.message),
    );
  }
});

Deno.test("a legacy code page's decoder is used as given", () => {
  const parser = new ReplyParser((bytes) => String.fromCharCode(...bytes).toUpperCase());
  parser.push(new Uint8Array([...encode("550 abc\r\n")]));
  assert.deepEqual(parser.next(), { code: 550, message: "550 ABC" });
});
