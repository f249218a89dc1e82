/**
 * What tests can do to the embedded server (`Faults`, injected at exact
 * bytes or commands) and see of it (`ServerStats`), and the counter that
 * spends a fault's `times`.
 *
 * @module
 */

export interface Faults {
  /** Cut the data connection of STOR/APPE uploads once the server has written exactly `byte` bytes of the file (offset counts from file start, i.e. REST offset + received); the file on disk must then hold exactly that many bytes. `times` (default 1) = how many uploads get cut; `path` optional substring/RegExp of the remote path to match. */
  cutDataAt?: { byte: number; times?: number; path?: string | RegExp };
  /** Close the control connection of a session after the `after`-th STOR/APPE command is received (before/while transferring) `times` times. */
  closeControlOnStore?: { after: number; times?: number };
  /** REST -> "502 Command not implemented". */
  refuseRest?: boolean;
  /** APPE -> "502 Command not implemented". */
  refuseAppe?: boolean;
  /** Max simultaneous logged-in connections per client; extra logins get "421 Too many connections from your address". */
  maxConnections?: number;
  /** Make "OPTS UTF8 ON" answer 501 (server still takes UTF-8 names). */
  rejectOptsUtf8?: boolean;
  /** Store at most this many bytes per second per upload, so a test can act mid-transfer. */
  throttleBytesPerSecond?: number;
  /** Offer `XSHA256 path` in FEAT (as ProFTPD's mod_digest does). */
  offerHash?: boolean;
  /** Act like a server that cannot set times: no MFMT in FEAT, MFMT -> "502 Command not implemented". */
  refuseSetTime?: boolean;
  /** After a complete upload, flip the file's first byte (same size): only a hash check sees it. */
  corruptStore?: { times?: number };
}

export interface ServerStats {
  /** Successful logins. */
  logins: number;
  /** Max simultaneous logged-in sessions. */
  peakConnections: number;
  /** Max simultaneous STOR/APPE data transfers. */
  peakTransfers: number;
  /** Received command lines in order ("PASS ***" masked), capped to the last 10000. */
  commands: string[];
}

/** Counts each fault's uses: `take` is false once its `times` (default 1) is spent. */
export class FaultUses {
  #used = new WeakMap<object, number>();

  take(fault: { times?: number }): boolean {
    const n = this.#used.get(fault) ?? 0;
    if (n >= (fault.times ?? 1)) return false;
    this.#used.set(fault, n + 1);
    return true;
  }
}
