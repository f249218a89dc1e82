/**
 * Named FTP reply codes (RFC 959, 2228, 2389, 2428, 3659), so the code says
 * `Code.FileUnavailable`, not `550`. Only the codes this client acts on.
 *
 * @module
 */

export const Code = {
  /** 120: service ready in n minutes (a preliminary reply before the greeting). */
  ServiceReadyInMinutes: 120,
  /** 125: data connection already open; transfer starting. */
  DataAlreadyOpen: 125,
  /** 150: file status okay; about to open data connection. */
  AboutToSend: 150,
  CommandOk: 200,
  /** 211: FEAT's multi-line list. */
  SystemStatus: 211,
  /** 213: SIZE, MDTM and hash answers. */
  FileStatus: 213,
  ServiceReady: 220,
  ClosingControl: 221,
  /** 226: transfer complete; closing data connection. */
  ClosingData: 226,
  /** 227: entering passive mode (h1,h2,h3,h4,p1,p2). */
  PassiveMode: 227,
  /** 229: entering extended passive mode (|||port|). */
  ExtendedPassiveMode: 229,
  LoggedIn: 230,
  /** 232: logged in, authorized by the security data exchange (TLS). */
  LoggedInSecure: 232,
  /** 234: AUTH TLS accepted. */
  AuthOk: 234,
  FileActionOk: 250,
  PathCreated: 257,
  UsernameOk: 331,
  NeedAccount: 332,
  /** 350: pending further information (REST, RNFR). */
  PendingFurtherInfo: 350,
  /** 421: service not available, closing control connection (also "too many users"). */
  ServiceNotAvailable: 421,
  CantOpenData: 425,
  /** 426: connection closed; transfer aborted. */
  TransferAborted: 426,
  /** 450: requested file action not taken (file busy). */
  FileActionNotTaken: 450,
  /** 451: local error in processing (also ProFTPD's "Append/Restart not permitted"). */
  LocalError: 451,
  /** 452: insufficient storage space. */
  InsufficientStorage: 452,
  SyntaxError: 500,
  SyntaxErrorInArguments: 501,
  NotImplemented: 502,
  BadSequence: 503,
  NotImplementedForParameter: 504,
  NotLoggedIn: 530,
  NeedAccountForStoring: 532,
  /** 522: the data connection's TLS failed (RFC 4217; vsftpd: "session reuse required"). */
  TlsRefused: 522,
  /** 550: file unavailable (not found, no access; some servers: already exists). */
  FileUnavailable: 550,
  /** 552: exceeded storage allocation (disk full, quota). */
  ExceededStorage: 552,
  /** 553: file name not allowed. */
  BadFileName: 553,
} as const;

const between = (low: number, high: number) => (code: number): boolean =>
  code >= low && code < high;

/** 1xx: a preliminary reply; the final one follows. */
export const isPreliminary = between(100, 200);

/** 2xx and 3xx: the command did (or may go on to do) what was asked. */
export const isSuccess = between(200, 400);

/** 2xx: the command is done. */
export const isCompletion = between(200, 300);

/** 4xx or 5xx: the command was refused. */
export const isNegative = between(400, 600);

/** 4xx: transient negative; the same command may work later. */
export const isTransient = between(400, 500);

/** 5xx: permanent negative. */
export const isPermanent = between(500, 600);
