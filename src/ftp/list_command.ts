/**
 * The `LIST` that shows hidden entries. vsftpd leaves names starting with a
 * dot out of `LIST` (and has no MLSD), so a site's `.htaccess` looked absent
 * and was sent again on every run; `LIST -a` shows them on vsftpd, pure-ftpd
 * and proftpd (pyftpdlib takes it as plain `LIST`). A server that reads
 * `-a` as a folder name refuses it (4xx/5xx) or, rarely, lists nothing: then
 * plain `LIST`, and no `-a` again on this connection. Dot names still missing
 * from a listing are asked for one by one (`run/skip/remote_state.ts`).
 *
 * @module
 */

import type { ServerAbilities } from "./abilities.ts";
import { FTPError } from "./errors.ts";
import type { Transport } from "./transport.ts";

/** The listing of the current folder over the data connection `openData` opened. */
export async function receiveList(
  transport: Transport,
  abilities: ServerAbilities,
  max: number,
): Promise<Uint8Array> {
  if (abilities.listHidden === false) return await transport.receive("LIST", max);
  let hidden: Uint8Array;
  try {
    hidden = await transport.receive("LIST -a", max);
  } catch (e) {
    if (!(e instanceof FTPError)) throw e;
    abilities.listHidden = false;
    await transport.openData();
    return await transport.receive("LIST", max);
  }
  if (hidden.length > 0 || abilities.listHidden) {
    abilities.listHidden = true;
    return hidden;
  }
  // Empty: a folder with nothing in it, or `-a` taken for a name that is not there.
  await transport.openData();
  const plain = await transport.receive("LIST", max);
  if (plain.length > 0) abilities.listHidden = false;
  return plain;
}
