/**
 * One STOR or APPE on the plain-FTP transport: the hot path. The data goes
 * out while the replies (the `150`, then the final one) are read, so a server
 * that gives up mid-transfer (`552` disk full) is heard at once, even one that
 * keeps the data connection open, and a control connection that dies stops the
 * sending. The two sides run at the same time and share one `TransferState`.
 *
 * Early data: a small file's data (`TransferRequest.early`) goes as soon as the
 * data connection is open, before the `150` (the server's kernel holds it until
 * the server takes the connection); otherwise nothing goes out before the
 * `150`, and never more than EARLY_DATA_BYTES before it in any case.
 *
 * @module
 */

import { isCompletion, isNegative, isPreliminary } from "./codes.ts";
import type { ByteStream, DataLink } from "./byte_stream.ts";
import type { Control } from "./control.ts";
import { ConnectionLost, FTPError, LocalFileError, TransferFailed } from "./errors.ts";
import type { Reply } from "./reply.ts";
import type { Throttle } from "./bandwidth.ts";
import {
  EARLY_DATA_BYTES,
  outOfStep,
  type Sent,
  type TransferRequest,
  type Transport,
} from "./transport.ts";
import type { Trail } from "./trailing.ts";
import type { EarlyTlsRequest } from "./early_tls.ts";

/**
 * How long to wait for the server's word after the data connection broke: a
 * server that runs out of space (`552`, `452`) says so on the control
 * connection and closes the data connection; the reply is what the user needs.
 */
const BROKEN_TRANSFER_REPLY_MS = 2000;

/** What the data side and the reply side of one transfer share. */
export class TransferState {
  /** Bytes read from the file. */
  read = 0;
  /** Bytes written to the data connection (live progress). */
  sent = 0;
  /** The data is going out now. */
  sending = false;
  /** The server has said its last word on this transfer (its replies ended). */
  ended = false;
  /** The transfer cannot end well: the data was cut, or the replies ended before the data. */
  failed = false;
  /** Why the data did not all go out, when the server had not said first. */
  cut?: unknown;
  /** The data connection once connected: closed at once when the replies end first. */
  data?: ByteStream;
  /** Called when the replies end (early TLS: a handshake still waiting is cut then). */
  onEnd?: () => void;
  /** Resolves true when the `150` came, false when the replies ended without one. */
  readonly preliminary = Promise.withResolvers<boolean>();
}

/** What the reply side heard: the first reply, the final one after a `150`, or why none. */
interface TransferReplies {
  first?: Reply;
  done?: Reply;
  error?: unknown;
}

/** The transport a transfer runs on. */
export interface TransferLink {
  control: Control;
  /** Closes the transport (its `close`, also what `outOfStep` calls). */
  transport: Transport;
  /** The copy buffer, kept across transfers. */
  buffer(): Uint8Array;
  /** The run's upload rate limit (`--bwlimit`, `bandwidth.ts`), when there is one. */
  throttle?: Throttle;
  /** FTPS: TLS starts on the data connection after the `150` (`native_ftps.ts`), unless begun early. */
  data?: DataLink;
}

/**
 * Runs one transfer over `connecting` (the data connection `openData` started; with `tls`,
 * its TLS began with it: `early_tls.ts`); errors as `Transport.transfer` says.
 */
export async function runTransfer(
  link: TransferLink,
  connecting: Promise<ByteStream>,
  request: TransferRequest,
  state: TransferState,
  trail?: Trail,
  tls?: EarlyTlsRequest,
): Promise<Sent> {
  const line = `${request.verb} ${request.remotePath}`;
  const replies = readReplies(link, state, line, trail);
  await sendData(link, connecting, request, state, tls);
  const { control } = link;
  // The final reply's deadline starts now; after a cut, only a short wait for the server's
  // word: it is what the user needs (`552`), and reading it keeps the session in step.
  control.arm(state.failed ? BROKEN_TRANSFER_REPLY_MS : control.timeoutMs);
  const result = await replies;
  control.disarm();
  if (trail && result.error === undefined) await readTrail(link, trail, result, line);
  return verdict(link.transport, request, state, result);
}

/** The reply side: the transfer command and its replies, read while the data goes out. */
function readReplies(
  link: TransferLink,
  state: TransferState,
  line: string,
  trail: Trail | undefined,
): Promise<TransferReplies> {
  const { control } = link;
  return (async () => {
    try {
      await control.write(line, ...trail?.lines ?? []);
      const first = await control.read({ preliminary: true });
      if (!isPreliminary(first.code)) {
        // A trailing command answered before the transfer even began: never again.
        if (trail && !isNegative(first.code)) trail.request.outcome = "refused";
        return { first };
      }
      // Reading the `150` took the deadline: the final reply gets one again (the data's
      // progress extends it), a short one when the data side has failed already (a server
      // that waits for a data connection that never came must not hang the run).
      control.arm(state.failed ? BROKEN_TRANSFER_REPLY_MS : control.timeoutMs);
      state.preliminary.resolve(true);
      return { first, done: await finalReply(link, line, trail) };
    } finally {
      state.preliminary.resolve(false);
    }
  })().then(
    (replies): TransferReplies => replies,
    (error: unknown): TransferReplies => ({ error }),
  ).then((replies) => {
    state.ended = true;
    state.onEnd?.();
    if (state.sending || !replies.done) {
      // Before the end of the data: whatever the server said, the transfer is over.
      state.failed = true;
      closeQuietly(state.data);
    }
    return replies;
  });
}

/**
 * The transfer's final reply. With trailing commands, a reply that is not a transfer's
 * is the probe's NOOP answered during the transfer (read on: the final one follows), or
 * out of step: the connection is closed, nothing of it is taken for the transfer's.
 */
async function finalReply(link: TransferLink, line: string, trail?: Trail): Promise<Reply> {
  for (;;) {
    const done = await link.control.read({ armed: false });
    const seen = trail?.atFinal(done) ?? "final";
    if (seen === "final") return done;
    if (seen === "outOfStep") throw outOfStep(link.transport, line, done);
  }
}

/**
 * The replies of the commands that trailed the transfer command, read after its final
 * reply (or its refusal); a connection lost meanwhile, or replies that fit no trailing
 * command, turn trailing off (a dropped command, a reply out of order) and fail the
 * transfer as out of step.
 */
async function readTrail(
  link: TransferLink,
  trail: Trail,
  result: TransferReplies,
  line: string,
): Promise<void> {
  try {
    while (trail.unread > 0) trail.replies.push(await link.control.read());
  } catch {
    // The transfer's replies stand; the SIZE after it will meet the closed connection.
    trail.request.outcome = "refused";
    return;
  }
  if (!trail.settle(result.done !== undefined)) {
    result.error = outOfStep(link.transport, line, trail.replies.at(-1) ?? result.first!);
  }
}

/** The data side: connect, wait for the `150` unless early, copy the file, close. */
async function sendData(
  link: TransferLink,
  connecting: Promise<ByteStream>,
  request: TransferRequest,
  state: TransferState,
  tls: EarlyTlsRequest | undefined,
): Promise<void> {
  const { control } = link;
  const gate = { open: !request.early, wait: state.preliminary.promise };
  // The server said its last word before the early handshake ended (a refused STOR): it
  // will never take that connection, so the handshake is cut instead of timing out.
  if (tls) {
    state.onEnd = () => {
      if (!state.sending) closeQuietly(tls.raw);
    };
  }
  try {
    state.data = await connectedData(control, connecting);
    // Without early data, nothing goes out unless the `150` came.
    const go = request.early || await state.preliminary.promise;
    if (go && !state.ended) {
      if (link.data && !tls) state.data = await link.data.secure(state.data);
      // Registered with the control connection: closing the session (an interrupt) or its
      // watchdog cuts the transfer at once.
      control.data = state.data;
      state.sending = true;
      await copyFile(control, state.data, request.source.file, link, state, gate);
      state.sending = false;
    }
    closeQuietly(state.data); // end of file for the server
  } catch (e) {
    state.sending = false;
    closeQuietly(state.data);
    if (e instanceof LocalFileError) {
      // The server got a short file and will answer for it: not worth reading.
      link.transport.close();
      throw e;
    }
    state.failed = true;
    if (!state.ended) state.cut = control.lost(e, false, "data socket");
    if (tls?.phase === "connected" && !state.ended) {
      // The early TLS handshake failed, before any byte of the file: the server may wait
      // for a data connection that will not come. Closed as out of step (`early_tls.ts`).
      tls.outcome = "refused";
      link.transport.close();
    }
  } finally {
    state.sending = false;
    control.data = undefined;
  }
}

/** What the transfer came to, from what the server said and what the data side did. */
function verdict(
  transport: Transport,
  request: TransferRequest,
  state: TransferState,
  { first, done, error }: TransferReplies,
): Sent {
  const { verb, source } = request;
  if (error !== undefined) {
    // Closed between commands (nothing of the STOR answered): that says more than the data
    // connection that went down with it.
    const idle = error instanceof ConnectionLost && error.idle;
    throw new TransferFailed(idle ? error : state.cut ?? error, state.sent);
  }
  if (first && !isPreliminary(first.code)) {
    // Refused before the transfer began (data sent early went nowhere): the local file
    // is put back where it was, so the same transfer can be tried again.
    if (state.read > 0) source.file.seekSync(-state.read, Deno.SeekMode.Current);
    if (isNegative(first.code)) throw new FTPError(first);
    throw new TransferFailed(outOfStep(transport, verb, first), 0);
  }
  if (!done) throw new TransferFailed(state.cut ?? new Error("no final reply"), state.sent);
  // A negative final reply: the caller turns early data off when it was on (store.ts).
  if (isNegative(done.code)) throw new TransferFailed(new FTPError(done), state.sent);
  if (!isCompletion(done.code)) {
    throw new TransferFailed(outOfStep(transport, verb, done), state.sent);
  }
  if (state.failed) {
    const early = new Error(`the server ended the transfer early: ${done.message}`);
    throw new TransferFailed(state.cut ?? early, state.sent);
  }
  return { read: state.read, written: state.sent };
}

/**
 * The data connection `openData` started. A failed connect is a cut transfer: the
 * server's word on the control connection is waited for briefly (a session closed
 * meanwhile says so), then the session is closed as out of step.
 */
export async function connectedData(
  control: Control,
  connecting: Promise<ByteStream>,
): Promise<ByteStream> {
  try {
    return await connecting;
  } catch (e) {
    throw control.lost(e, false, "data socket");
  }
}

/**
 * Copies the file to the data connection, counting in `state` as it goes. File reads are
 * synchronous on purpose: each connection has its own worker thread, and a sync read from
 * the page cache costs far less than the async calls it replaces.
 */
async function copyFile(
  control: Control,
  data: ByteStream,
  file: Deno.FsFile,
  link: TransferLink,
  state: TransferState,
  /** Until `open` (the `150` came), at most EARLY_DATA_BYTES go out; then `wait` for it. */
  gate: { open: boolean; wait: Promise<boolean> },
): Promise<void> {
  const buf = link.buffer();
  const throttle = link.throttle;
  for (;;) {
    let n: number | null;
    try {
      n = file.readSync(buf);
    } catch (e) {
      throw new LocalFileError(`local file unreadable: ${e instanceof Error ? e.message : e}`);
    }
    if (n === null) return;
    state.read += n;
    control.arm(); // progress: a slow link is fine, a stalled one is not
    // Count each write as it lands: a chunk cut halfway must still count what the kernel took.
    for (let off = 0; off < n;) {
      if (!gate.open && state.sent >= EARLY_DATA_BYTES) {
        // No `150`, no more data: the reply that came instead says why.
        if (!(await gate.wait)) throw new Error("the server did not start the transfer");
        gate.open = true;
      }
      let end = gate.open ? n : Math.min(n, off + EARLY_DATA_BYTES - state.sent);
      if (throttle) {
        // A slice at a time, each once its stretch of the shared link begins.
        end = Math.min(end, off + throttle.slice);
        await throttle.take(end - off);
        control.arm(); // waiting for the link is not a stall
      }
      const w = await data.write(buf.subarray(off, end));
      off += w;
      state.sent += w;
    }
  }
}

export function closeQuietly(c: ByteStream | undefined): void {
  try {
    c?.close();
  } catch { /* already closed */ }
}
