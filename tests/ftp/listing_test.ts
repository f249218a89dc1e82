import assert from "node:assert/strict";
import {
  entryFromSizeMdtm,
  listTime,
  parseList,
  parseMlsd,
  parseMlst,
} from "../../src/ftp/listing.ts";
import { ProtocolError } from "../../src/ftp/errors.ts";
import { ListingCut } from "../../src/ftp/listing.ts";

const NOW = Date.UTC(2026, 10, 26, 16, 0); // 26 November 2026, 16:00 UTC
const utf8 = (s: string) => new TextEncoder().encode(s);

Deno.test("parseMlsd: pyftpdlib's facts, folder and file, names with spaces", () => {
  const listing = parseMlsd(utf8(
    "modify=20250101120000;perm=radfwMT;size=5;type=file;unique=fe00g20c48d; a b.txt\r\n" +
      "modify=20261126155118;perm=eldfmMTcp;size=4096;type=dir;unique=fe00g20c48f; sub\r\n" +
      "modify=20240102030405;perm=radfwMT;size=3;type=file;unique=fe00g20c48e; old.txt\r\n",
  ));
  assert.deepEqual([...listing.keys()], ["a b.txt", "sub", "old.txt"]);
  assert.deepEqual(listing.get("a b.txt"), {
    type: "file",
    size: 5,
    mtimeMs: Date.UTC(2025, 0, 1, 12),
    precision: "second",
  });
  assert.equal(listing.get("sub")?.type, "dir");
  assert.equal(listing.get("old.txt")?.mtimeMs, Date.UTC(2024, 0, 2, 3, 4, 5));
});

Deno.test("parseMlsd: fact names in any case, cdir/pdir left out, the name is all after the first space", () => {
  const listing = parseMlsd(
    "Type=cdir;Modify=20261126150000; /in\r\n" +
      "Type=pdir;Modify=20261126150000; /\r\n" +
      "Type=file;Size=10;Modify=20261126153907.250;UNIX.mode=0644; semi; colon  two spaces.txt\r\n" +
      "type=OS.unix=slink:/etc/passwd;modify=20261126153907; link\r\n" +
      "type=OS.unix=blk;size=0; device\r\n" +
      "type=dir;sizd=4096;modify=20261126153907; folder\r\n" +
      "type=file;size=12;modify=2026-11-26; badtime.txt\r\n" +
      "type=file;size=-1;modify=20261126153907; badsize.txt\r\n" +
      "not a listing line\r\n" +
      "nospace\r\n",
  );
  assert.deepEqual(
    [...listing.keys()],
    [
      "semi; colon  two spaces.txt",
      "link",
      "device",
      "folder",
      "badtime.txt",
      "badsize.txt",
    ],
  );
  assert.deepEqual(listing.get("semi; colon  two spaces.txt"), {
    type: "file",
    size: 10,
    mtimeMs: Date.UTC(2026, 10, 26, 15, 39, 7, 250),
    precision: "second",
  });
  assert.equal(listing.get("link")?.type, "link");
  assert.equal(listing.get("device")?.type, "other");
  assert.equal(listing.get("folder")?.size, undefined);
  assert.equal(listing.get("badtime.txt")?.mtimeMs, undefined);
  assert.equal(listing.get("badtime.txt")?.size, 12);
  assert.equal(listing.get("badsize.txt")?.size, undefined);
});

Deno.test("parseMlsd: names kept byte for byte: an NFD name is not the NFC one (issue 21 item 5)", () => {
  const nfd = "Cafe\u0301.txt";
  const listing = parseMlsd(utf8(
    `type=file;size=1;modify=20261126153907; ${nfd}\r\n` +
      "type=file;size=2;modify=20261126153907; План.txt\r\n" +
      "type=file;size=3;modify=20261126153907; A\u030a.txt\r\n" +
      "type=file;size=4;modify=20261126153907; \u00c5.txt\r\n" +
      "type=file;size=6;modify=20261126153907; \u00c5.txt\r\n" +
      "type=file;size=5;modify=20261126153907; ..\r\n",
  ));
  assert.deepEqual([...listing.keys()], [nfd, "План.txt", "A\u030a.txt"]);
  assert.equal(listing.get("Café.txt"), undefined); // the NFC destination is not there
  assert.equal(listing.get(nfd)?.size, 1);
  // A name listed twice: which entry is meant is unknown, so neither is used.
  assert.equal(listing.get("\u00c5.txt"), undefined);
});

Deno.test("a listing cut mid-name and closed with 226 is not read (issue 21 item 4)", async () => {
  const whole = "type=file;size=5;modify=20261126153907; index.html\r\n" +
    "type=file;size=9;modify=20261126153907; index.html.bak\r\n";
  const cut = whole.slice(0, whole.length - ".bak\r\n".length); // ends in "index.html"
  assert.equal(parseMlsd(whole).get("index.html")?.size, 5);
  assert.throws(() => parseMlsd(utf8(cut)), ListingCut);
  assert.throws(() => parseMlsd(cut), ProtocolError); // the per-file fallback takes it
  const list = "-rw-r--r--    1 1 1           5 Nov 26 15:39 a.txt\r\n" +
    "-rw-r--r--    1 1 1           9 Nov 26 15:39 a.txt.old";
  await assert.rejects(() => parseList(utf8(list), NOW), ListingCut);
  assert.equal((await parseList(utf8(list + "\n"), NOW)).get("a.txt.old")?.size, 9);
  assert.equal((await parseList(utf8(""), NOW)).size, 0); // an empty folder is complete
});

Deno.test("parseList: vsftpd's Unix listing (times to the minute, older files to the day)", async () => {
  const listing = await parseList(
    utf8(
      "-rw-r--r--    1 40123    40123           5 Jan 01  2025 a b.txt\r\n" +
        "-rw-r--r--    1 40123    40123     1048576 Nov 26 15:39 big.bin\r\n" +
        "drwxr-xr-x    2 40123    40123        4096 Nov 20 09:00 sub\r\n" +
        "lrwxrwxrwx    1 40123    40123          11 Nov 20 09:00 ln -> /etc/passwd\r\n" +
        "-rw-r--r--    1 40123    40123           7 Nov 26 15:39 Cafe\u0301 ☕.txt\r\n",
    ),
    NOW,
  );
  assert.deepEqual(listing.get("a b.txt"), {
    type: "file",
    size: 5,
    mtimeMs: Date.UTC(2025, 0, 1),
    precision: "day",
  });
  assert.deepEqual(listing.get("big.bin"), {
    type: "file",
    size: 1048576,
    mtimeMs: Date.UTC(2026, 10, 26, 15, 39),
    precision: "minute",
  });
  assert.equal(listing.get("sub")?.type, "dir");
  assert.equal(listing.get("ln")?.type, "link");
  assert.equal(listing.get("Cafe\u0301 ☕.txt")?.size, 7);
  assert.equal(listing.size, 5);
});

Deno.test("parseList: pyftpdlib's and proftpd's Unix lines, a 'total' line, . and ..", async () => {
  const listing = await parseList(
    "total 12\r\n" +
      "drwxr-xr-x   3 root     root         4096 Nov 26 15:51 .\r\n" +
      "drwxr-xr-x   3 root     root         4096 Nov 26 15:51 ..\r\n" +
      "-rw-r--r--   1 root     root            3 Sep 02 03:47 music.mp3\r\n" +
      "-rw-r--r--   1 ftp ftp             100 Nov 26 2025 year.txt\r\n",
    NOW,
  );
  assert.deepEqual([...listing.keys()], ["music.mp3", "year.txt"]);
  assert.equal(listing.get("music.mp3")?.mtimeMs, Date.UTC(2026, 8, 2, 3, 47));
  assert.equal(listing.get("year.txt")?.mtimeMs, Date.UTC(2025, 10, 26));
  assert.equal(listing.get("year.txt")?.precision, "day");
});

Deno.test("parseList: DOS/IIS listing, 12-hour clock, two- and four-digit years", async () => {
  const listing = await parseList(
    "11-26-26  03:39PM       <DIR>          folder\r\n" +
      "11-26-26  12:05AM                 1234 file name.txt\r\n" +
      "01-02-2025  12:30PM                 0 empty.txt\r\n" +
      "12-31-99  23:59                      9 old.txt\r\n",
    NOW,
  );
  assert.deepEqual(listing.get("folder"), {
    type: "dir",
    size: 0,
    mtimeMs: Date.UTC(2026, 10, 26, 15, 39),
    precision: "minute",
  });
  assert.equal(listing.get("file name.txt")?.mtimeMs, Date.UTC(2026, 10, 26, 0, 5));
  assert.equal(listing.get("file name.txt")?.size, 1234);
  assert.equal(listing.get("empty.txt")?.mtimeMs, Date.UTC(2025, 0, 2, 12, 30));
  assert.equal(listing.get("old.txt")?.mtimeMs, Date.UTC(1999, 11, 31, 23, 59));
});

Deno.test("parseList: an unknown format is a ProtocolError; an empty folder is empty", async () => {
  await assert.rejects(parseList("+i8388621.48594,m825718503,r,s280, djb.html\r\n"), ProtocolError);
  assert.equal((await parseList("", NOW)).size, 0);
  assert.equal((await parseList("total 0\r\n", NOW)).size, 0);
});

Deno.test("listTime: a year-less date is the latest one not after now (one day of slack)", () => {
  const at = (y: number, mo: number, d: number, h = 0, mi = 0) => Date.UTC(y, mo - 1, d, h, mi);
  assert.deepEqual(listTime("Nov 26 15:39", NOW), {
    mtimeMs: at(2026, 11, 26, 15, 39),
    precision: "minute",
  });
  // Later in the year than now: last year's.
  assert.equal(listTime("Dec 31 23:59", NOW).mtimeMs, at(2025, 12, 31, 23, 59));
  // Early January, a file from late December.
  assert.equal(listTime("Dec 31 23:59", at(2027, 1, 5)).mtimeMs, at(2026, 12, 31, 23, 59));
  // A server clock (or zone) a few hours ahead: still this year.
  assert.equal(listTime("Nov 26 20:00", NOW).mtimeMs, at(2026, 11, 26, 20));
  assert.equal(listTime("Jan 1 00:30", at(2026, 12, 31, 12)).mtimeMs, at(2027, 1, 1, 0, 30));
  // 29 February: the last leap year.
  assert.equal(listTime("Feb 29 10:00", at(2029, 3, 10)).mtimeMs, at(2028, 2, 29, 10));
  assert.equal(listTime("Feb 29 10:00", at(2028, 2, 28)).mtimeMs, at(2024, 2, 29, 10));
});

Deno.test("listTime: other Unix shapes, and what it cannot read", () => {
  assert.equal(listTime("26 Nov 15:39", NOW).mtimeMs, Date.UTC(2026, 10, 26, 15, 39));
  assert.equal(listTime("2026-11-26 15:39", NOW).mtimeMs, Date.UTC(2026, 10, 26, 15, 39));
  assert.deepEqual(listTime("11月 26日 15:39", NOW), {
    mtimeMs: Date.UTC(2026, 10, 26, 15, 39),
    precision: "minute",
  });
  assert.deepEqual(listTime("11月 26日 2025年", NOW), {
    mtimeMs: Date.UTC(2025, 10, 26),
    precision: "day",
  });
  assert.deepEqual(listTime("NOV 26  2025", NOW), {
    mtimeMs: Date.UTC(2025, 10, 26),
    precision: "day",
  });
  for (
    const bad of [
      "Mär 26 15:39",
      "Nov 31 2025",
      "Nov 26 25:00",
      "Nov 26 12:60",
      "13-01-26 01:00PM",
      "11-26-26 13:00PM",
      "yesterday",
    ]
  ) {
    assert.equal(listTime(bad, NOW).mtimeMs, undefined, bad);
  }
});

Deno.test("parseMlst: the entry line of a 250 reply; nothing for an error", () => {
  const reply = {
    code: 250,
    message:
      "250-Listing /in/a b.txt\n type=file;size=5;modify=20250101120000; /in/a b.txt\n250 End.",
  };
  assert.deepEqual(parseMlst(reply), {
    type: "file",
    size: 5,
    mtimeMs: Date.UTC(2025, 0, 1, 12),
    precision: "second",
  });
  assert.equal(parseMlst({ code: 550, message: "550 No such file or directory." }), undefined);
  assert.equal(parseMlst({ code: 250, message: "250 End." }), undefined);
});

Deno.test("entryFromSizeMdtm: a file with its time, or nothing when SIZE fails", () => {
  const size = { code: 213, message: "213 5" };
  assert.deepEqual(entryFromSizeMdtm(size, { code: 213, message: "213 20250101120000" }), {
    type: "file",
    size: 5,
    mtimeMs: Date.UTC(2025, 0, 1, 12),
    precision: "second",
  });
  assert.deepEqual(entryFromSizeMdtm(size, { code: 550, message: "550 no" }), {
    type: "file",
    size: 5,
    precision: "second",
  });
  assert.equal(
    entryFromSizeMdtm({ code: 550, message: "550 Could not get file size." }, size),
    undefined,
  );
  assert.equal(entryFromSizeMdtm({ code: 213, message: "213 big" }, size), undefined);
});
