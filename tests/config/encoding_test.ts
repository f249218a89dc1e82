/**
 * `server.encoding` in the config: its default, the UTF-8 spellings, unknown
 * or unusable names (exit 2 at `server.encoding`), a login the page cannot
 * carry, and destinations it cannot represent (marked, not a config error).
 *
 * @module
 */

import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { ConfigError, type ConfigProblem } from "../../src/config/errors.ts";
import type { Config } from "../../src/config/types.ts";

const SECRET = "пароль-日本";

function parse(server: Record<string, unknown>, destinations = ["/in/a.txt"]): Promise<Config> {
  const files = destinations.map((destination) => ({ source: "a.txt", destination }));
  return parseConfig(
    JSON.stringify({ server: { host: "ftp.example.com", ...server }, files }),
    "/conf/ftpbatch.json",
  );
}

async function problems(server: Record<string, unknown>): Promise<ConfigProblem[]> {
  const e = await parse(server).catch((e) => e);
  assert.ok(e instanceof ConfigError, `expected a ConfigError, got ${e}`);
  return e.problems;
}

Deno.test("server.encoding defaults to utf8; UTF-8 spellings are utf8", async () => {
  assert.equal((await parse({})).server.encoding, "utf8");
  for (const spelling of ["utf8", "UTF-8", "utf-8", "Utf8"]) {
    assert.equal((await parse({ encoding: spelling })).server.encoding, "utf8");
  }
  assert.equal((await parse({ encoding: "cp1251" })).server.encoding, "cp1251");
  // UTF-8 marks nothing, whatever the names.
  const utf8 = await parse({}, ["/日本.txt", "/План.txt"]);
  assert.ok(utf8.files.every((f) => f.unencodable === undefined));
});

Deno.test("server.encoding: an unknown or non-ASCII page is a problem there, value not echoed", async () => {
  for (const bad of ["cp9999", "no such page"]) {
    const found = await problems({ encoding: bad });
    assert.deepEqual(found.map((p) => p.path), ["server.encoding"]);
    assert.match(found[0].message, /^unknown encoding; use "utf8" \(the default\) or a code page/);
    assert.ok(!found[0].message.includes(bad));
  }
  for (const bad of ["utf16le", "utf-16", "utf32", "utf7", "base64"]) {
    const found = await problems({ encoding: bad });
    assert.deepEqual(found.map((p) => p.path), ["server.encoding"], bad);
    assert.match(found[0].message, /must keep ASCII characters as they are/);
  }
  const [notText] = await problems({ encoding: 1251 });
  assert.equal(notText.path, "server.encoding");
  assert.match(notText.message, /must be a string/);
  // Found together with the config's other problems.
  const both = await problems({ encoding: "cp9999", port: 0 });
  assert.deepEqual(both.map((p) => p.path).sort(), ["server.encoding", "server.port"]);
});

Deno.test("a user or password the page cannot carry is a config error; the password's character is not shown", async () => {
  const found = await problems({ encoding: "cp1251", user: "日本", password: SECRET });
  assert.deepEqual(found.map((p) => p.path), ["server.user", "server.password"]);
  assert.match(found[0].message, /"日" \(U\+65E5\) has no cp1251 code/);
  assert.equal(
    found[1].message,
    "has a character the server's encoding (server.encoding cp1251) cannot represent",
  );
  // A Cyrillic login is fine in cp1251.
  const ok = await parse({ encoding: "cp1251", user: "пользователь", password: "пароль" });
  assert.equal(ok.server.user, "пользователь");
});

Deno.test("a destination the page cannot represent is marked on its entry, naming the character", async () => {
  const config = await parse({ encoding: "cp1251" }, [
    "/Папка/План.txt",
    "/in/日本.txt",
    "/日本/a.txt",
    "/in/café.txt", // é: not in cp1251
  ]);
  const marks = config.files.map((f) => f.unencodable);
  assert.equal(marks[0], undefined);
  assert.match(
    marks[1]!,
    /^name not representable in the server's encoding \(server\.encoding cp1251\): "日" \(U\+65E5\) has no cp1251 code; nothing was sent/,
  );
  assert.match(marks[2]!, /"日" \(U\+65E5\)/);
  assert.match(marks[3]!, /"é" \(U\+00E9\) has no cp1251 code/);
  // The same names in a page that has them: no mark.
  const gbk = await parse({ encoding: "gbk" }, ["/in/日本.txt", "/Папка/План.txt"]);
  assert.ok(gbk.files.every((f) => f.unencodable === undefined));
});
