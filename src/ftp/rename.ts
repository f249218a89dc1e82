/**
 * Renaming a finished upload onto its destination (RNFR/RNTO), for servers
 * that will not rename onto an existing file too: Windows servers (IIS among
 * them) refuse the RNTO with 550 or 553. Only then,
 * and only when the destination is there, is it deleted and the rename tried
 * again; a transient (4xx) refusal never deletes anything.
 *
 * @module
 */

import { Code, isNegative, isPermanent } from "./codes.ts";
import { FTPError } from "./errors.ts";
import type { Reply } from "./reply.ts";
import type { Transport } from "./transport.ts";

/**
 * RNFR/RNTO of `from` onto `to`, replacing `to` as the module doc says. `before`, a command
 * about `from` whose answer decides nothing here (setting its time), goes out in the same
 * write; its reply is returned.
 */
export async function renameOnto(
  transport: Transport,
  from: string,
  to: string,
  before?: string,
): Promise<Reply | undefined> {
  // Safe to send together: a refused RNFR makes the RNTO fail too.
  const lines = [`RNFR ${from}`, `RNTO ${to}`];
  const replies = await transport.commands(before === undefined ? lines : [before, ...lines]);
  const first = before === undefined ? undefined : replies.shift();
  const [rnfr, rnto] = replies;
  if (isNegative(rnfr.code)) throw new FTPError(rnfr);
  if (!isNegative(rnto.code)) return first;
  const refusesOverwrite = rnto.code === Code.FileUnavailable || rnto.code === Code.BadFileName;
  if (!refusesOverwrite || !(await fileExists(transport, to))) throw new FTPError(rnto);
  const dele = await transport.command(`DELE ${to}`);
  if (isNegative(dele.code)) {
    throw new FTPError({
      code: rnto.code,
      message: `${rnto.message} (the old file could not be deleted either: ${dele.message})`,
    });
  }
  for (const reply of await transport.commands([`RNFR ${from}`, `RNTO ${to}`])) {
    if (isNegative(reply.code)) {
      throw new FTPError({
        code: reply.code,
        message: `rename failed after the old destination was deleted: ${to} is gone and ` +
          `the new content is still at ${from} (${reply.message})`,
      });
    }
  }
  return first;
}

/** Whether a plain file is at `path`: SIZE, or MDTM where SIZE is not implemented. */
async function fileExists(transport: Transport, path: string): Promise<boolean> {
  const size = await transport.command(`SIZE ${path}`);
  if (size.code === Code.FileStatus) return true;
  if (size.code === Code.FileUnavailable || !isPermanent(size.code)) return false;
  return (await transport.command(`MDTM ${path}`)).code === Code.FileStatus;
}
