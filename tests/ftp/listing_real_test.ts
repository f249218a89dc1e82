/**
 * Listings from real servers read back to the sizes and times their files
 * have on disk: vsftpd's LIST (no MLSD), pyftpdlib's MLSD and LIST.
 */
import assert from "node:assert/strict";
import { type Listing, parseList, parseMlsd, type Precision } from "../../src/ftp/listing.ts";
import { startRealServer } from "../helpers/real_server.ts";
import { startPyftpdlib } from "../helpers/pyftpdlib_server.ts";
import { rawLogin } from "../helpers/raw_ftp.ts";

const RECENT = Math.floor((Date.now() - 2 * 3_600_000) / 1000) * 1000 + 37_000; // :37 seconds
const OLD = Date.UTC(2024, 0, 2, 3, 4, 5);
const FILES: [string, string, number][] = [
  // on-disk name, name as the config gives it (NFC), mtime
  ["a b.txt", "a b.txt", RECENT],
  ["Cafe\u0301 ☕.txt", "Café ☕.txt", RECENT],
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

Deno.test("vsftpd: LIST read to the minute (recent) and the day (older than six months)", async (t) => {
  const server = await startRealServer();
  if (!server) {
    await t.step({ name: "ignored: vsftpd not available", ignore: true, fn: () => {} });
    return;
  }
  try {
    await seed(server.root);
    const ftp = await rawLogin(server.port, server.user, server.password);
    try {
      assert.equal(ftp.features.has("MLST"), false); // vsftpd has no MLSD: LIST it is
      const { bytes, reply } = await ftp.list("LIST", "/in");
      assert.equal(reply.code, 226);
      const listing = await parseList(bytes);
      await assertMatchesDisk(listing, server.root, {
        "a b.txt": "minute",
        "Café ☕.txt": "minute",
        "old.bin": "day",
      });
    } finally {
      ftp.close();
    }
  } finally {
    await server.close();
  }
});

Deno.test("pyftpdlib: MLSD read to the second; its LIST to the minute and day", async (t) => {
  const server = await startPyftpdlib();
  if (!server) {
    await t.step({ name: "ignored: pyftpdlib not available", ignore: true, fn: () => {} });
    return;
  }
  try {
    await seed(server.root);
    const ftp = await rawLogin(server.port);
    try {
      assert.equal(ftp.features.has("MLST"), true);
      const mlsd = await ftp.list("MLSD", "/in");
      assert.equal(mlsd.reply.code, 226);
      await assertMatchesDisk(parseMlsd(mlsd.bytes), server.root, {
        "a b.txt": "second",
        "Café ☕.txt": "second",
        "old.bin": "second",
      });
      const list = await ftp.list("LIST", "/in");
      await assertMatchesDisk(await parseList(list.bytes), server.root, {
        "a b.txt": "minute",
        "Café ☕.txt": "minute",
        "old.bin": "day",
      });
    } finally {
      ftp.close();
    }
  } finally {
    await server.close();
  }
});
