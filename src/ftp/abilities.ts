/**
 * What a server can do, learned from FEAT and then from its replies: how a
 * partial file may be continued, which hash command it offers, whether a
 * small file's data may go before the `150`, whether commands may trail a STOR.
 *
 * @module
 */

/** What the server can do, learned from FEAT and from its replies; kept per connection. */
export interface ServerAbilities {
  /** FEAT lists `REST STREAM`, or a REST was answered 350. `undefined` = not known yet. */
  restStore?: boolean;
  /** APPE worked (true), or was refused before any data moved (false). */
  append?: boolean;
  /** Hash command offered in FEAT (XSHA256, XSHA1, XMD5, HASH, XCRC), if any. */
  hash?: string;
  /**
   * Data may go out as soon as the data connection is open, before the `150` (the server's
   * kernel holds it until the server takes the connection): a round trip per file. Turned
   * off (`false`) when a transfer sent that way is refused midway or comes out short.
   */
  earlyData?: boolean;
  /**
   * Commands may trail a STOR in its own write, answered after the transfer (`trailing.ts`):
   * `undefined` = not known (the next transfer probes with a NOOP), true = held (SIZE and the
   * next EPSV trail), false = refused or seen out of order: they go after the `226`.
   */
  trailing?: boolean;
  /**
   * FTPS: a STOR's data connection may start TLS as soon as it is made, before the `150`
   * (`early_tls.ts`): `undefined` = not known (the next one is probed), true = held, false =
   * refused or failed once: TLS after the `150`.
   */
  earlyTls?: boolean;
  /** `LIST -a` (hidden entries too) gave a listing (true) or was refused (false: plain LIST). */
  listHidden?: boolean;
  /**
   * The server truncates a STOR's file even when it is new (vsftpd, named in its greeting),
   * which costs a flush of the whole file after the `226` on ext4: a large new file goes up
   * with APPE instead (`store.ts`).
   */
  truncatesStore?: boolean;
}

/**
 * What the greeting tells: vsftpd's (`220 (vsFTPd 3.0.5)` unless its banner was changed)
 * opens a STOR's file and then `ftruncate`s it, new or not (see `store.ts`).
 */
export function greetingQuirks(greeting: string): Pick<ServerAbilities, "truncatesStore"> {
  return /\(vsFTPd [\d.]+\)/.test(greeting) ? { truncatesStore: true } : {};
}

/** Hash commands, the best first. */
const HASH_COMMANDS = ["XSHA256", "XSHA1", "XMD5", "HASH", "XCRC"];

/** What FEAT's answer (feature name, upper case -> the rest of its line) tells. */
export function abilitiesFrom(features: ReadonlyMap<string, string>): ServerAbilities {
  return {
    restStore: features.get("REST")?.toUpperCase() === "STREAM" ? true : undefined,
    hash: HASH_COMMANDS.find((c) => features.has(c)),
  };
}
