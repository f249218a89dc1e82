/**
 * A legacy server encoding for npm basic-ftp (the FTPS transport). basic-ftp
 * writes command strings and reads replies through a Node string encoding,
 * and Node has no legacy code pages; its `latin1` maps each byte to one
 * character and back, so the control channel is set to `latin1`, every
 * command goes out as its code-page bytes spelt as a latin1 string, and
 * every reply chunk is turned back into bytes and decoded with the code page.
 *
 * Relies on two basic-ftp 6.2.6 internals, checked by tests/ftp/encoding_test.ts:
 * `FtpContext.send` is the one place commands are written (USER and PASS
 * included) and `_onControlSocketData` the one place replies arrive.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import type { Client } from "basic-ftp";
import { type Codec, passwordUnencodable, UnencodableName } from "./encoding.ts";

interface Internals {
  send(command: string): void;
  _onControlSocketData(chunk: string): void;
}

/** Makes `client` speak `codec` (a legacy code page), or UTF-8 when there is none. */
export function useServerEncoding(client: Client, codec: Codec | undefined): void {
  if (!codec) {
    client.ftp.encoding = "utf8";
    return;
  }
  const ftp = client.ftp as unknown as Internals;
  client.ftp.encoding = "latin1";
  const send = ftp.send.bind(ftp);
  ftp.send = (command) => {
    let bytes: Uint8Array;
    try {
      bytes = codec.encode(command);
    } catch (e) {
      throw e instanceof UnencodableName && /^PASS /i.test(command)
        ? passwordUnencodable(codec)
        : e;
    }
    send(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("latin1"));
  };
  const decode = codec.decoder();
  const onData = ftp._onControlSocketData.bind(ftp);
  ftp._onControlSocketData = (chunk) => onData(decode(Buffer.from(chunk, "latin1")));
  // basic-ftp sends `OPTS UTF8 ON` before and after login; a legacy server is not asked:
  // it could switch to UTF-8 for real. The skipped command gets a reply of its own.
  const sendIgnoringError = client.sendIgnoringError.bind(client);
  client.sendIgnoringError = (command) =>
    /^OPTS UTF-?8\b/i.test(command)
      ? Promise.resolve({ code: 202, message: `202 not sent: the server speaks ${codec.name}` })
      : sendIgnoringError(command);
}
