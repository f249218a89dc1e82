/**
 * A server that refuses logins without TLS, told as what to change in the
 * config. Seen: vsftpd `force_local_logins_ssl=YES` answers USER with
 * `530 Non-anonymous sessions must use encryption.`; pure-ftpd `--tls 2`
 * answers with `421 Sorry, cleartext sessions and weak ciphers are not
 * accepted on this server.`; proftpd `TLSRequired on` with `550 SSL/TLS
 * required on the control channel`; FileZilla Server with `530 This server
 * does not allow plain FTP`. A 421 would otherwise be retried as a server
 * going away: this refusal is fatal at once (`src/upload/retry.ts`).
 *
 * @module
 */

import { FTPError } from "./errors.ts";

/** What to change, appended to the server's own words. */
export const TLS_REQUIRED_HINT =
  'the server requires FTPS: set "secure": true in the config\'s "server" section ' +
  '("secure": "implicit" for a server that speaks TLS from the first byte, usually port 990)';

const ASKS_FOR_TLS =
  /must use encryption|cleartext sessions|(SSL|TLS)(\/TLS)? (is )?required|requires? (SSL|TLS|encryption)|(not|n't) allow plain|plain(text)? (FTP )?(connections |sessions )?(are |is )?not (allowed|accepted)|use (AUTH TLS|TLS|SSL|FTPS)/i;

/** A login refused because the connection is not encrypted; fatal, with the hint. */
export class EncryptionRequired extends FTPError {
  constructor(reply: { code: number; message: string }) {
    // One line: the hint follows the server's (possibly multi-line) words.
    const words = reply.message.replace(/\s+/g, " ").trim();
    super({ code: reply.code, message: `${words} (${TLS_REQUIRED_HINT})` });
    this.name = "EncryptionRequired";
  }
}

/** `e` as an EncryptionRequired when it is a plain-FTP login refused for want of TLS. */
export function encryptionRequired(e: unknown): unknown {
  if (!(e instanceof FTPError) || e instanceof EncryptionRequired) return e;
  if (e.code !== 421 && e.code !== 530 && e.code !== 534 && e.code !== 550) return e;
  return ASKS_FOR_TLS.test(e.message) ? new EncryptionRequired(e) : e;
}
