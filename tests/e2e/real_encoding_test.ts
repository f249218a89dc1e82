/**
 * `server.encoding` against real servers, through the command line:
 * - vsftpd keeps a name as the bytes it was sent, so a cp1251 upload must
 *   leave `CF EB E0 ED 2E 74 78 74` on disk for `План.txt`, over plain FTP
 *   (the native transport) and over FTPS (basic-ftp's latin1 channel under TLS);
 * - pyftpdlib made to speak cp1251 (its command decoding and replies switched
 *   from UTF-8 to cp1251, as on a Windows-1251 host) must read the names as
 *   the Cyrillic they are.
 * Either way a name cp1251 lacks fails that file, nothing sent, and no
 * `OPTS UTF8` reaches the server; a second run reads the listings in cp1251
 * and sends nothing. Ignored, the reason in the name, where a
 * server cannot run (`FTPBATCH_REAL_SERVER=required` makes that a failure).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { realServerTest, serverCase } from "../helpers/real_server.ts";

const MAIN = fileURLToPath(new URL("../../main.ts", import.meta.url));
const DEBIAN_PYTHON = "/usr/bin/python3";
const DESTINATIONS = ["/План.txt", "/Папка/Отчёт.txt", "/日本.txt"];

interface Target {
  host: string;
  port: number;
  user: string;
  password: string;
  secure?: boolean;
  /** DENO_CERT for FTPS. */
  ca?: string;
  /**
   * The server lists names in the code page its commands use, so a second run finds the
   * files there (vsftpd: the bytes as stored). The pyftpdlib below only speaks cp1251 on
   * its control connection; its listings stay UTF-8, so a second run sends them again.
   */
  listsInCodePage?: boolean;
}

/** Uploads DESTINATIONS with `encoding: cp1251` through the CLI; checks the report. */
async function uploadCp1251(target: Target): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "ftpbatch-enc-" });
  try {
    const files = [];
    for (const [i, destination] of DESTINATIONS.entries()) {
      await Deno.writeTextFile(join(dir, `f${i}`), `content ${i}\n`);
      files.push({ source: `f${i}`, destination });
    }
    const configPath = join(dir, "ftpbatch.json");
    const { host, port, user, secure = false } = target;
    await Deno.writeTextFile(
      configPath,
      JSON.stringify({
        server: { host, port, user, passwordEnv: "FTPB_PW", secure, encoding: "cp1251" },
        options: { workers: 2, retries: 0, report: "report.json" },
        files,
      }),
    );
    const run = async () => {
      const out = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN, "upload", configPath],
        env: {
          NO_COLOR: "1",
          FTPB_PW: target.password,
          ...(target.ca ? { DENO_CERT: target.ca } : {}),
        },
        stdout: "piped",
        stderr: "piped",
      }).output();
      const stderr = new TextDecoder().decode(out.stderr);
      assert.equal(out.code, 1, stderr);
      const report = JSON.parse(await Deno.readTextFile(join(dir, "report.json")));
      // The report lists files in the order they were decided (version 2): put them in config order.
      const at = (f: { destination: string }) => DESTINATIONS.indexOf(f.destination);
      report.files.sort((a: { destination: string }, b: { destination: string }) => at(a) - at(b));
      return { stderr, report };
    };
    const { stderr, report } = await run();
    assert.deepEqual(
      report.files.map((f: { status: string }) => f.status),
      ["uploaded", "uploaded", "failed"],
      stderr,
    );
    assert.equal(report.files[2].attempts, 0);
    assert.match(report.files[2].error, /"日" \(U\+65E5\) has no cp1251 code; nothing was sent/);
    // Again: the listings are read in cp1251 too, so the names match and nothing is sent.
    const again = await run();
    const second = target.listsInCodePage ? "skipped" : "uploaded";
    assert.deepEqual(
      again.report.files.map((f: { status: string }) => f.status),
      [second, second, "failed"],
      again.stderr,
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * Every path under `dir` (relative) as raw bytes in hex: `find` prints them as they are
 * on disk (Deno's own readDir would turn bytes that are not UTF-8 into U+FFFD).
 */
async function rawPaths(dir: string): Promise<string[]> {
  const out = await new Deno.Command("find", {
    args: [dir, "-mindepth", "1", "-printf", "%P\\n"],
    stdout: "piped",
  }).output();
  assert.ok(out.success, `find ${dir}`);
  const names: string[] = [];
  let start = 0;
  for (let i = 0; i < out.stdout.length; i++) {
    if (out.stdout[i] !== 0x0a) continue;
    const name = out.stdout.subarray(start, i);
    names.push(Array.from(name, (b) => b.toString(16).toUpperCase().padStart(2, "0")).join(" "));
    start = i + 1;
  }
  return names.sort();
}

for (const tls of [false, true]) {
  realServerTest(
    `real server (vsftpd${tls ? ", FTPS" : ""}): cp1251 names land on disk as their bytes`,
    { kind: "vsftpd", tls },
    async (server) => {
      await uploadCp1251({
        listsInCodePage: true,
        ...server,
        secure: tls,
        ca: tls ? join(server.dir, "ca.pem") : undefined,
      });
      // Nothing else: no UTF-8 twin, no mangled name, no temporary file left.
      assert.deepEqual(await rawPaths(server.root), [
        "CF E0 EF EA E0", // Папка
        "CF E0 EF EA E0 2F CE F2 F7 B8 F2 2E 74 78 74", // Папка/Отчёт.txt
        "CF EB E0 ED 2E 74 78 74", // План.txt
      ]);
      const log = await server.log();
      assert.match(log, /STOR/); // the log has the commands
      assert.ok(!/OPTS UTF-?8/i.test(log), "no OPTS UTF8 sent");
      if (tls) assert.match(log, /PROT P/);
    },
  );
}

/**
 * pyftpdlib speaking cp1251: strict cp1251 decoding of command lines (a byte cp1251 lacks
 * would be a 501) and cp1251 replies. Prints its port, logs every command to `log`.
 */
const PYFTPDLIB_CP1251 = `
import asynchat, sys
from pyftpdlib.authorizers import DummyAuthorizer
from pyftpdlib.handlers import FTPHandler
from pyftpdlib.servers import FTPServer

root, log = sys.argv[1], open(sys.argv[2], "a", encoding="utf-8")

class Cp1251Handler(FTPHandler):
    def decode(self, raw):
        line = raw.decode("cp1251")
        log.write(line + "\\n")
        log.flush()
        return line

    def push(self, s):
        asynchat.async_chat.push(self, s.encode("cp1251", "replace"))

authorizer = DummyAuthorizer()
authorizer.add_user("u", "pw", root, perm="elradfmwMT")
Cp1251Handler.authorizer = authorizer
server = FTPServer(("127.0.0.1", 0), Cp1251Handler)
print(server.socket.getsockname()[1], flush=True)
server.serve_forever(handle_exit=True)
`;

function pyftpdlibUsable(): string | null {
  try {
    const probe = new Deno.Command(DEBIAN_PYTHON, { args: ["-c", "import pyftpdlib"] })
      .outputSync();
    return probe.success ? null : `${DEBIAN_PYTHON} lacks pyftpdlib`;
  } catch {
    return `${DEBIAN_PYTHON} not found`;
  }
}

const [pyName, pyOptions] = serverCase(
  "real server (pyftpdlib speaking cp1251): names read as the Cyrillic they are",
  pyftpdlibUsable(),
);
Deno.test({
  name: pyName,
  ...pyOptions,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "ftpbatch-pyenc-" });
    const root = join(dir, "root");
    await Deno.mkdir(root);
    const log = join(dir, "commands.log");
    const child = new Deno.Command(DEBIAN_PYTHON, {
      args: ["-c", PYFTPDLIB_CP1251, root, log],
      stdout: "piped",
      stderr: "null",
    }).spawn();
    try {
      const reader = child.stdout.getReader();
      const { value } = await reader.read();
      reader.releaseLock();
      const port = Number(new TextDecoder().decode(value).trim());
      assert.ok(port > 0, "pyftpdlib did not start");
      await uploadCp1251({ host: "127.0.0.1", port, user: "u", password: "pw" });
      // The server decoded cp1251 and stored the names in its own (UTF-8) file system.
      assert.deepEqual([...Deno.readDirSync(root)].map((e) => e.name).sort(), [
        "Папка",
        "План.txt",
      ]);
      assert.deepEqual([...Deno.readDirSync(join(root, "Папка"))].map((e) => e.name), [
        "Отчёт.txt",
      ]);
      assert.equal(await Deno.readTextFile(join(root, "План.txt")), "content 0\n");
      const commands = await Deno.readTextFile(log);
      assert.match(commands, /^STOR \/\.План\.txt\.ftpbatch-/m);
      assert.ok(!/^OPTS UTF-?8/im.test(commands), "no OPTS UTF8 sent");
      assert.ok(!commands.includes("?"), "no mangled name");
    } finally {
      child.kill("SIGTERM");
      await child.status;
      await child.stdout.cancel().catch(() => {});
      await Deno.remove(dir, { recursive: true });
    }
  },
});
