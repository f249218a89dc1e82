/** Which login refusals ask for TLS (`src/ftp/tls_required.ts`), and which do not. */

import assert from "node:assert/strict";
import { FTPError } from "../../src/ftp/errors.ts";
import { EncryptionRequired, encryptionRequired } from "../../src/ftp/tls_required.ts";
import { ConnectError, toConnectError } from "../../src/upload/retry.ts";

const asks = [
  [530, "Non-anonymous sessions must use encryption."], // vsftpd force_local_logins_ssl
  [
    421,
    "421-Sorry, cleartext sessions and weak ciphers are not accepted on this server.\n" +
    "421 Please reconnect using TLS security mechanisms.",
  ], // pure-ftpd --tls 2
  [550, "SSL/TLS required on the control channel"], // proftpd TLSRequired on
  [530, "This server does not allow plain FTP. You have to use FTP over TLS."], // FileZilla
] as const;

const other = [
  [530, "Login incorrect."],
  [421, "There are too many connections from your internet address."],
  [550, "Permission denied."],
  [421, "Timeout."],
] as const;

Deno.test('a login refused for want of TLS names "secure": true, on one line', () => {
  for (const [code, message] of asks) {
    const e = encryptionRequired(new FTPError({ code, message }));
    assert.ok(e instanceof EncryptionRequired, message);
    assert.equal(e.code, code);
    assert.match(e.message, /"secure": true/);
    assert.doesNotMatch(e.message, /\n/);
    // Fatal at once, also as a 421.
    const connect = toConnectError(e, (x) => (x as Error).message);
    assert.ok(connect instanceof ConnectError);
    assert.equal(connect.kind, "auth", message);
  }
});

Deno.test("other refusals are left as they are", () => {
  for (const [code, message] of other) {
    const original = new FTPError({ code, message });
    assert.equal(encryptionRequired(original), original, message);
  }
  const lost = new Error("ECONNRESET");
  assert.equal(encryptionRequired(lost), lost);
});
