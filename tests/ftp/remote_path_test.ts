import assert from "node:assert/strict";
import { normalizeDestination, parentDirs } from "../../src/ftp/remote_path.ts";

Deno.test("normalizeDestination keeps a full file path", () => {
  assert.equal(normalizeDestination("/in/a.txt", "x.txt"), "/in/a.txt");
});

Deno.test("normalizeDestination: trailing / appends the source base name", () => {
  assert.equal(
    normalizeDestination("/incoming/img/", "img/photo 1.jpg"),
    "/incoming/img/photo 1.jpg",
  );
  assert.equal(
    normalizeDestination("/incoming/документы/", "/home/u/docs/План.txt"),
    "/incoming/документы/План.txt",
  );
  assert.equal(normalizeDestination("/j/", "日本語.txt"), "/j/日本語.txt");
  assert.equal(
    normalizeDestination("/c/", "dir/café ☕.txt"),
    "/c/café ☕.txt",
  );
});

Deno.test("normalizeDestination collapses duplicate slashes and . segments", () => {
  assert.equal(normalizeDestination("//a//./b///c.txt", "x"), "/a/b/c.txt");
  assert.equal(normalizeDestination("/a/./b/", "x.txt"), "/a/b/x.txt");
});

Deno.test("normalizeDestination makes the result absolute", () => {
  assert.equal(normalizeDestination("a/b.txt", "x"), "/a/b.txt");
});

Deno.test("normalizeDestination NFC-normalizes destination and source name", () => {
  const nfd = "cafe\u0301.txt"; // e + combining acute, as macOS writes it
  const nfc = "caf\u00e9.txt";
  assert.equal(normalizeDestination(`/in/${nfd}`, "x"), `/in/${nfc}`);
  assert.equal(normalizeDestination("/in/", `docs/${nfd}`), `/in/${nfc}`);
  assert.equal(
    normalizeDestination("/Пла\u0306н/", "a.txt"),
    "/Пла\u0306н/a.txt".normalize("NFC"),
  );
});

Deno.test("parentDirs lists ancestors except /, outermost first", () => {
  assert.deepEqual(parentDirs("/incoming/docs/a.txt"), [
    "/incoming",
    "/incoming/docs",
  ]);
  assert.deepEqual(parentDirs("/a.txt"), []);
  assert.deepEqual(parentDirs("/"), []);
  assert.deepEqual(parentDirs("//x//y/z.txt"), ["/x", "/x/y"]);
});
