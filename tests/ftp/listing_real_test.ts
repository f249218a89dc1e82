/**
 * Listings from real servers read back to the sizes and times their files
 * have on disk: every server's LIST, and MLSD where FEAT offers it (all but
 * vsftpd).
 */
import assert from "node:assert/strict";
import { type Listing, parseList, parseMlsd, type Precision } from "../../src/ftp/listing.ts";
import { realServerTest } from "../helpers/real_server.ts";
import { rawLogin } from "../helpers/raw_ftp.ts";

const RECENT = Math.floor((Date.now() - 2 * 3_600_000) / 1000) * 1000 + 37_000; // :37 seconds
const OLD = Date.UTC(2024, 0, 2, 3, 4, 5);
const FILES: [string, string, number][] = [
  // on-disk name, name as listed (byte for byte: the NFD name stays NFD), mtime
  ["a b.txt", "a b.txt", RECENT],
  ["Cafe\u0301 ☕.txt", "Cafe\u0301 ☕.txt", RECENT],
  ["old.bin", "old.bin", OLD],
];
const UNIT: Record<Precision, number> = { second: 1000, minute: 60_000, day: 86_400_000 };

async function seed(root: string): Promise<void> {
  await Deno.mkdir(`${root}/in/sub`, { recursive: true });
  for (const [i, [name, , mtime]] of FILES.entries()) {
    await Deno.writeFile(`${root}/in/${name}`, new Uint8Array(100 * i + 3));
    await Deno.utime(`${root}/in/${name}`, mtime / 1000, mtime / 1000);
  }
}

async function assertMatchesDisk(
  listing: Listing,
  root: string,
  precisions: Record<string, Precision>,
): Promise<void> {
  assert.deepEqual([...listing.keys()].sort(), [...FILES.map((f) => f[1]), "sub"].sort());
  assert.equal(listing.get("sub")?.type, "dir");
  for (const [onDisk, name] of FILES) {
    const st = await Deno.stat(`${root}/in/${onDisk}`);
    const entry = listing.get(name)!;
    const unit = UNIT[precisions[name]];
    assert.equal(entry.type, "file", name);
    assert.equal(entry.size, st.size, name);
    assert.equal(entry.precision, precisions[name], name);
    assert.equal(entry.mtimeMs, Math.floor(st.mtime!.getTime() / unit) * unit, name);
  }
}

for (const kind of ["vsftpd", "pure-ftpd", "proftpd", "pyftpdlib"] as const) {
  realServerTest(
    `${kind}: LIST read to the minute (recent) and the day (older); MLSD, where FEAT has MLST, to the second`,
    { kind },
    async (server) => {
      await seed(server.root);
      await server.seedOwner(`${server.root}/in`);
      const ftp = await rawLogin(server.port, server.user, server.password);
      try {
        const list = await ftp.list("LIST", "/in");
        assert.equal(list.reply.code, 226);
        await assertMatchesDisk(await parseList(list.bytes), server.root, {
          "a b.txt": "minute",
          "Cafe\u0301 ☕.txt": "minute",
          "old.bin": "day",
        });
        // vsftpd has no MLSD; the others list MLST in FEAT.
        assert.equal(ftp.features.has("MLST"), kind !== "vsftpd");
        if (!ftp.features.has("MLST")) return;
        const mlsd = await ftp.list("MLSD", "/in");
        assert.equal(mlsd.reply.code, 226);
        await assertMatchesDisk(parseMlsd(mlsd.bytes), server.root, {
          "a b.txt": "second",
          "Cafe\u0301 ☕.txt": "second",
          "old.bin": "second",
        });
      } finally {
        ftp.close();
      }
    },
  );
}
