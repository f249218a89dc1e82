import { deepStrictEqual as assertEquals } from "node:assert/strict";
import {
  carriesServerText,
  errorText,
  redact,
  safeText,
  withoutPassword,
} from "../../src/ftp/server_text.ts";
import {
  ConnectionLost,
  FTPError,
  LocalFileError,
  PartialUploadError,
} from "../../src/ftp/errors.ts";

Deno.test("safeText escapes control characters, ESC and BEL included, and keeps one line", () => {
  assertEquals(safeText("550 \x1b]0;pwned\x07no\r\nx"), "550 \\x1b]0;pwned\\x07no\\x0d\\x0ax");
  assertEquals(safeText("café ☕ План"), "café ☕ План");
});

Deno.test("safeText replaces every occurrence of each secret", () => {
  assertEquals(safeText("530 pw s3cr3t s3cr3t", ["s3cr3t", undefined, ""]), "530 pw *** ***");
});

Deno.test("errorText: the password replaced in server text only, never in a local error's path (issue 16)", () => {
  const server = new FTPError({ code: 550, message: "550 /ftpsite/a: no, ftp" });
  assertEquals(errorText(server, ["ftp"]), "550 /***site/a: no, ***");
  assertEquals(errorText(new ConnectionLost("421 bye ftp"), ["ftp"]), "421 bye ***");
  const local = new LocalFileError("local file unreadable: /srv/ftpsite/a.txt");
  assertEquals(errorText(local, ["ftp"]), "local file unreadable: /srv/ftpsite/a.txt");
  assertEquals(errorText(new Error("No such file: /srv/ftp"), ["ftp"]), "No such file: /srv/ftp");
  // A transfer cut by a local read error is the tool's; by the server's reply, the server's.
  assertEquals(carriesServerText(new PartialUploadError(local, 0, 0)), false);
  assertEquals(carriesServerText(new PartialUploadError(server, 0, 0)), true);
});

Deno.test("the login's error: every occurrence of the password replaced, the class kept", () => {
  assertEquals(redact("530 pw s3cr3t s3cr3t", "s3cr3t"), "530 pw *** ***");
  assertEquals(redact("530 no", undefined), "530 no");
  const e = withoutPassword(new FTPError({ code: 530, message: "530 bad ftp for u" }), "ftp");
  assertEquals([e instanceof FTPError, e.code, e.message], [true, 530, "530 bad *** for u"]);
  assertEquals(withoutPassword("not an error", "x"), "not an error");
});
