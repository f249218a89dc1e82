/**
 * `server.encoding` in both transports against the embedded server in
 * `byteNames` mode (names are the bytes the client sent): the code-page bytes
 * of each name reach the server, replies come back decoded, `OPTS UTF8 ON` is
 * never sent, and a name the page lacks is refused before anything is sent.
 *
 * @module
 */

import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openNativeSession } from "../../src/ftp/native_login.ts";
import { openBasicFtpSession } from "../../src/ftp/basic_ftp_transport.ts";
import { loadCodec, UnencodableName } from "../../src/ftp/encoding.ts";
import { LocalFileError } from "../../src/ftp/errors.ts";
import type { FtpLogin } from "../../src/ftp/login.ts";
import type { Session } from "../../src/ftp/session.ts";
import { classifyError } from "../../src/upload/retry.ts";
import { nameBytes } from "../../src/server/embedded_server.ts";
import { withServer } from "../helpers/embedded.ts";
import { featReply, startScriptedServer } from "../helpers/scripted_server.ts";
import { integration } from "../helpers/kit.ts";

const hex = (bytes: number[]) => bytes.map((b) => b.toString(16).toUpperCase().padStart(2, "0"));

/** The names in the server's root, as the bytes the client sent for them. */
async function diskNames(root: string): Promise<string[][]> {
  const names: string[][] = [];
  for await (const e of Deno.readDir(root)) names.push(hex(nameBytes(e.name)));
  return names.sort();
}

type Open = (login: FtpLogin, timeoutMs: number) => Promise<Session>;
const TRANSPORTS: [string, Open][] = [
  ["native", openNativeSession],
  // basic-ftp over plain FTP: the same code as FTPS once TLS is up (the embedded server has none).
  ["basic-ftp", openBasicFtpSession],
];

Deno.test("codec: cp1251 bytes of План.txt; 日 has none and is named; ASCII-only pages refused", async () => {
  const cp1251 = await loadCodec("cp1251");
  assert.ok(typeof cp1251 !== "string");
  assert.deepEqual(hex([...cp1251.encode("План.txt")]), "CF EB E0 ED 2E 74 78 74".split(" "));
  assert.equal(cp1251.unencodable("/Папка/План.txt"), undefined);
  assert.equal(cp1251.unencodable("/in/日本.txt"), '"日" (U+65E5) has no cp1251 code');
  assert.throws(() => cp1251.encode("STOR /日本.txt\r\n"), (e) => {
    assert.ok(e instanceof UnencodableName && e instanceof LocalFileError);
    assert.equal(classifyError(e), "fatal"); // the file's problem: never retried
    assert.match(e.message, /"日" \(U\+65E5\)/);
    return true;
  });
  // A literal "?" is a name like any other, not a sign of loss.
  assert.equal(cp1251.unencodable("/a?.txt"), undefined);
  assert.equal(await loadCodec("no-such-page"), "unknown");
  assert.equal(await loadCodec("utf16le"), "notAscii");
  assert.equal(await loadCodec("utf7"), "notAscii");
  // A double-byte character split across two reads comes out whole.
  const gbk = await loadCodec("gbk");
  assert.ok(typeof gbk !== "string");
  const decode = gbk.decoder();
  const bytes = gbk.encode("日本");
  assert.equal(decode(bytes.subarray(0, 1)) + decode(bytes.subarray(1)), "日本");
});

for (const [transport, open] of TRANSPORTS) {
  Deno.test({
    name: `${transport}: cp1251 server gets План.txt as CF EB E0 ED 2E 74 78 74, no OPTS UTF8`,
    ...integration,
    async fn() {
      await withServer({ byteNames: true }, async (server) => {
        const local = join(server.root, "..", `ftpbatch-enc-${crypto.randomUUID()}`);
        await Deno.writeTextFile(local, "hello");
        const session = await open(
          { host: server.host, port: server.port, secure: false, encoding: "cp1251" },
          10_000,
        );
        try {
          assert.equal(await session.mkdir("/Папка"), true);
          await session.upload({
            localPath: local,
            remotePath: "/Папка/План.txt",
            offset: 0,
            method: "rest",
            size: 5,
          });
          await session.upload({
            localPath: local,
            remotePath: "/План.txt",
            offset: 0,
            method: "rest",
            size: 5,
          });
          await session.rename("/План.txt", "/Отчёт.txt");
          assert.equal(await session.size("/Папка/План.txt"), 5);
          // A name the page lacks: refused before the command, the session still usable.
          await assert.rejects(
            () =>
              session.upload({
                localPath: local,
                remotePath: "/日本.txt",
                offset: 0,
                method: "rest",
                size: 5,
              }),
            (e) => e instanceof UnencodableName && /"日" \(U\+65E5\) has no cp1251/.test(e.message),
          );
          assert.equal(await session.size("/Отчёт.txt"), 5);
          await session.quit();
        } finally {
          session.close();
          await Deno.remove(local);
        }
        assert.deepEqual(await diskNames(server.root), [
          "CE F2 F7 B8 F2 2E 74 78 74".split(" "), // Отчёт.txt
          "CF E0 EF EA E0".split(" "), // Папка
        ]);
        assert.deepEqual(
          hex(nameBytes([...Deno.readDirSync(join(server.root, "Ïàïêà"))][0].name)),
          "CF EB E0 ED 2E 74 78 74".split(" "),
        );
        const commands = server.stats.commands;
        assert.ok(!commands.some((c) => /^OPTS UTF-?8/i.test(c)), commands.join("\n"));
        // Nothing was sent for the name cp1251 lacks: no mangled `?` name either.
        assert.ok(!commands.some((c) => c.includes("?") || c.includes("日")), commands.join("\n"));
      });
    },
  });

  Deno.test({
    name: `${transport}: koi8-r, shift_jis and gbk names arrive as their code-page bytes`,
    ...integration,
    async fn() {
      for (
        const [encoding, name, bytes] of [
          ["koi8-r", "Привет.txt", "F0 D2 C9 D7 C5 D4 2E 74 78 74"],
          ["shift_jis", "日本.txt", "93 FA 96 7B 2E 74 78 74"],
          ["gbk", "中文.txt", "D6 D0 CE C4 2E 74 78 74"],
        ]
      ) {
        await withServer({ byteNames: true }, async (server) => {
          const local = join(server.root, "..", `ftpbatch-enc-${crypto.randomUUID()}`);
          await Deno.writeTextFile(local, "x");
          const session = await open(
            { host: server.host, port: server.port, secure: false, encoding },
            10_000,
          );
          try {
            await session.upload({
              localPath: local,
              remotePath: `/${name}`,
              offset: 0,
              method: "rest",
              size: 1,
            });
            assert.equal(await session.size(`/${name}`), 1);
            await session.quit();
          } finally {
            session.close();
            await Deno.remove(local);
          }
          assert.deepEqual(await diskNames(server.root), [bytes.split(" ")], encoding);
        });
      }
    },
  });

  Deno.test({
    name: `${transport}: a name echoed in a reply reads back as sent`,
    ...integration,
    async fn() {
      await withServer({ byteNames: true }, async (server) => {
        const session = await open(
          { host: server.host, port: server.port, secure: false, encoding: "cp1251" },
          10_000,
        );
        try {
          // The embedded server echoes the path's bytes in its 257 reply.
          const reply = await session.transport.command("MKD /Отчёты");
          assert.equal(reply.code, 257);
          assert.match(reply.message, /\/Отчёты/);
        } finally {
          session.close();
        }
      });
    },
  });
}

Deno.test("native: a gbk reply split inside a character is decoded whole; login without OPTS UTF8", async () => {
  const gbk = await loadCodec("gbk");
  assert.ok(typeof gbk !== "string");
  const message = gbk.encode("550 文件不存在\r\n");
  const server = startScriptedServer(async (peer) => {
    await peer.reply("220 ready");
    await peer.expect("USER");
    await peer.reply("331 password please");
    await peer.expect("PASS");
    await peer.reply("230 logged in");
    await peer.expect("TYPE"); // straight on: no OPTS UTF8 ON in between
    await peer.reply("200 binary");
    await peer.expect("FEAT");
    await peer.reply(featReply(["SIZE"]));
    await peer.expect("SIZE");
    await peer.raw(message.subarray(0, 5)); // "550 " and the first byte of 文
    await new Promise((r) => setTimeout(r, 50));
    await peer.raw(message.subarray(5));
  });
  const session = await openNativeSession(
    {
      host: "127.0.0.1",
      port: server.port,
      user: "u",
      password: "p",
      secure: false,
      encoding: "gbk",
    },
    10_000,
  );
  try {
    const reply = await session.transport.command("SIZE /a");
    assert.deepEqual(reply, { code: 550, message: "550 文件不存在" });
  } finally {
    session.close();
    await server.close();
  }
});

Deno.test({
  name: "utf8 (the default) still sends OPTS UTF8 ON and UTF-8 names",
  ...integration,
  async fn() {
    for (const [, open] of TRANSPORTS) {
      await withServer({}, async (server) => {
        const session = await open({ host: server.host, port: server.port, secure: false }, 10_000);
        try {
          assert.equal(await session.mkdir("/План"), true);
        } finally {
          session.close();
        }
        assert.ok(server.stats.commands.some((c) => /^OPTS UTF8 ON$/i.test(c)));
        assert.deepEqual([...Deno.readDirSync(server.root)].map((e) => e.name), ["План"]);
      });
    }
  },
});

Deno.test("iconv-lite (and node:buffer for it) are only ever imported dynamically by the worker's graph", async () => {
  const worker = fileURLToPath(new URL("../../workers/upload_worker.ts", import.meta.url));
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["info", "--json", worker],
    stdout: "piped",
    stderr: "piped",
  }).output();
  assert.ok(out.success, new TextDecoder().decode(out.stderr));
  const info = JSON.parse(new TextDecoder().decode(out.stdout)) as {
    modules: { specifier: string; dependencies?: { specifier: string; isDynamic?: boolean }[] }[];
  };
  const uses = info.modules.flatMap((m) =>
    (m.dependencies ?? []).filter((d) => d.specifier === "iconv-lite").map((d) => ({
      from: m.specifier.slice(m.specifier.lastIndexOf("/src/") + 1),
      dynamic: d.isDynamic === true,
    }))
  );
  assert.deepEqual(uses, [{ from: "src/ftp/encoding.ts", dynamic: true }]);
  // The modules a UTF-8 session loads at start import no node:buffer either.
  const native = ["native_login.ts", "native_transport.ts", "native_transfer.ts"];
  for (
    const m of [...native, "control.ts", "reply_parser.ts", "encoding.ts", "session.ts", "store.ts"]
  ) {
    const mod = info.modules.find((x) => x.specifier.endsWith(`/src/ftp/${m}`));
    assert.ok(mod, m);
    const buffer = (mod.dependencies ?? []).find((d) => d.specifier === "node:buffer");
    assert.ok(!buffer || buffer.isDynamic, `${m} imports node:buffer statically`);
  }
});
