/**
 * `LIST -a` where the server takes it (`src/ftp/list_command.ts`): kept once it
 * gave a listing, dropped for plain `LIST` when refused or when it lists
 * nothing where plain `LIST` lists something (`-a` read as a name). Against
 * vsftpd, pure-ftpd and proftpd, with MLSD set aside, it shows dot names.
 */

import assert from "node:assert/strict";
import type { ServerAbilities } from "../../src/ftp/abilities.ts";
import { FTPError } from "../../src/ftp/errors.ts";
import { receiveList } from "../../src/ftp/list_command.ts";
import { openSession } from "../../src/ftp/open_session.ts";
import type { Transport } from "../../src/ftp/transport.ts";
import { realServerTest, type ServerKind } from "../helpers/real_server.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

/** A transport that answers listing commands from `answers` and logs what it was asked. */
function lister(answers: Record<string, string | number>, log: string[]): Transport {
  return {
    openData: () => {
      log.push("open data");
      return Promise.resolve();
    },
    receive: (line: string) => {
      log.push(line);
      const a = answers[line];
      return typeof a === "number"
        ? Promise.reject(new FTPError({ code: a, message: `${a} no` }))
        : Promise.resolve(bytes(a));
    },
  } as unknown as Transport;
}

Deno.test("LIST -a taken: used, and kept for empty folders too", async () => {
  const log: string[] = [];
  const abilities: ServerAbilities = {};
  const t = lister({ "LIST -a": "-rw-r--r-- 1 u g 5 Jan 1 2024 .env\r\n" }, log);
  assert.match(new TextDecoder().decode(await receiveList(t, abilities, 1000)), /\.env/);
  assert.equal(abilities.listHidden, true);
  const empty = lister({ "LIST -a": "" }, log);
  assert.equal((await receiveList(empty, abilities, 1000)).length, 0);
  assert.deepEqual(log, ["LIST -a", "LIST -a"]);
});

Deno.test("LIST -a refused: plain LIST, and no -a again", async () => {
  const log: string[] = [];
  const abilities: ServerAbilities = {};
  const t = lister({ "LIST -a": 550, "LIST": "-rw-r--r-- 1 u g 5 Jan 1 2024 a\r\n" }, log);
  assert.equal((await receiveList(t, abilities, 1000)).length > 0, true);
  await receiveList(t, abilities, 1000);
  assert.deepEqual(log, ["LIST -a", "open data", "LIST", "LIST"]);
  assert.equal(abilities.listHidden, false);
});

Deno.test("LIST -a empty where LIST is not: -a was read as a name, plain LIST from then on", async () => {
  const log: string[] = [];
  const abilities: ServerAbilities = {};
  const t = lister({ "LIST -a": "", "LIST": "-rw-r--r-- 1 u g 5 Jan 1 2024 a\r\n" }, log);
  assert.equal((await receiveList(t, abilities, 1000)).length > 0, true);
  assert.equal(abilities.listHidden, false);
  // Both empty: nothing learned, asked again next time.
  const both: ServerAbilities = {};
  assert.equal(
    (await receiveList(lister({ "LIST -a": "", "LIST": "" }, []), both, 1000)).length,
    0,
  );
  assert.equal(both.listHidden, undefined);
});

for (const kind of ["vsftpd", "pure-ftpd", "proftpd"] as ServerKind[]) {
  realServerTest(`${kind}: LIST -a shows dot names (MLSD set aside)`, { kind }, async (server) => {
    await Deno.writeTextFile(`${server.root}/.htaccess`, "Options -Indexes\n");
    await Deno.writeTextFile(`${server.root}/index.html`, "<h1>hi</h1>\n");
    await server.seedOwner(server.root);
    const session = await openSession({
      host: server.host,
      port: server.port,
      user: server.user,
      password: server.password,
      secure: false,
    }, 10_000);
    try {
      // Without MLST in FEAT the session lists with LIST (as on vsftpd).
      (session.features as Map<string, string>).delete("MLST");
      const listing = await session.list("/");
      assert.ok(listing?.has("index.html"), `${[...listing?.keys() ?? []]}`);
      assert.ok(listing?.has(".htaccess"), `${[...listing?.keys() ?? []]}`);
      assert.equal(session.abilities.listHidden, true);
    } finally {
      session.close();
    }
  });
}
