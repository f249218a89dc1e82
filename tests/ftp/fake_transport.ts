/**
 * A fake `Transport` for driving a `Session` without sockets: files in
 * memory, every command and transfer logged in order, and any reply or
 * transfer outcome replaceable per test (`on`, `onTransfer`). Like pure-ftpd,
 * it answers `500 Unknown command` to a command that arrives while a transfer
 * is open, and logs it in `duringTransfer`.
 *
 * @module
 */

import type { Reply } from "../../src/ftp/reply.ts";
import { Session } from "../../src/ftp/session.ts";
import type { Sent, TransferRequest, Transport } from "../../src/ftp/transport.ts";
import { concat } from "../helpers/scripted_server.ts";

/** A reply from its text: `reply("550 no such file")`. */
export function reply(message: string): Reply {
  return { code: Number(message.slice(0, 3)), message };
}

/** Answers one command; `undefined` lets the default answer. */
export type FakeHandler = (arg: string, fake: FakeTransport) => Reply | undefined;

/** Replaces a transfer; `undefined` lets the default (read the file, store it) run. */
export type FakeTransfer = (
  request: TransferRequest,
  fake: FakeTransport,
) => Promise<Sent | undefined> | Sent | undefined;

export class FakeTransport implements Transport {
  readonly codec = undefined;
  closed = false;
  sending = 0;
  /** Everything the session asked for, in order: command lines, `open data`, `STOR /x`. */
  readonly log: string[] = [];
  /** Commands that came while a transfer was open. */
  readonly duringTransfer: string[] = [];
  /** The transfer requests, in order. */
  readonly transfers: TransferRequest[] = [];
  readonly files = new Map<string, Uint8Array>();
  on: Record<string, FakeHandler> = {};
  onTransfer?: FakeTransfer;
  #open = false;
  #dataOpen = false;

  constructor(readonly earlyData = true) {}

  /** A session on a fake transport whose FEAT listed `features`. */
  static session(features: string[] = ["REST STREAM", "SIZE"], earlyData = true) {
    const fake = new FakeTransport(earlyData);
    const feat = new Map(features.map((f) => [f.split(" ")[0], f.split(" ")[1] ?? ""]));
    return { fake, session: new Session(fake, feat) };
  }

  close(): void {
    this.closed = true;
  }

  command(line: string): Promise<Reply> {
    this.log.push(line);
    if (this.#open) {
      this.duringTransfer.push(line);
      return Promise.resolve({ code: 500, message: "500 Unknown command" });
    }
    const [verb, ...rest] = line.split(" ");
    const arg = rest.join(" ");
    return Promise.resolve(this.on[verb]?.(arg, this) ?? this.#answer(verb, arg));
  }

  async commands(lines: string[]): Promise<Reply[]> {
    const replies: Reply[] = [];
    for (const line of lines) replies.push(await this.command(line));
    return replies;
  }

  sizeAfterTransfer(path: string, nextFollows: boolean): Promise<Reply> {
    this.log.push(`(next follows: ${nextFollows})`);
    return this.command(`SIZE ${path}`);
  }

  sendWithNext(): undefined {
    return undefined;
  }

  async flush(): Promise<void> {}

  openData(): Promise<void> {
    this.log.push("open data");
    this.#dataOpen = true;
    return Promise.resolve();
  }

  abandonData(): void {
    this.log.push("abandon data");
    this.#dataOpen = false;
  }

  receive(): Promise<Uint8Array> {
    throw new Error("not faked");
  }

  async transfer(request: TransferRequest): Promise<Sent> {
    if (!this.#dataOpen) throw new Error("transfer without a data connection");
    this.#dataOpen = false;
    this.log.push(`${request.verb} ${request.remotePath}`);
    this.transfers.push(request);
    this.#open = true;
    try {
      // A turn of the event loop with the transfer open: a command sent meanwhile is seen.
      await new Promise((r) => setTimeout(r, 0));
      const replaced = await this.onTransfer?.(request, this);
      return replaced ?? this.#store(request);
    } finally {
      this.#open = false;
    }
  }

  /** The default transfer: the rest of the file, stored at `start` (APPE: at the end). */
  #store({ verb, remotePath, source, start }: TransferRequest): Sent {
    const chunks: Uint8Array[] = [];
    const buf = new Uint8Array(64 * 1024);
    for (let n = source.file.readSync(buf); n !== null; n = source.file.readSync(buf)) {
      chunks.push(buf.slice(0, n));
    }
    const data = concat(chunks);
    const old = this.files.get(remotePath) ?? new Uint8Array();
    const at = verb === "APPE" ? old.length : start;
    this.files.set(remotePath, concat([old.subarray(0, at), data]));
    return { read: data.length, written: data.length };
  }

  #answer(verb: string, arg: string): Reply {
    switch (verb) {
      case "REST":
        return { code: 350, message: `350 restarting at ${arg}` };
      case "SIZE": {
        const f = this.files.get(arg);
        return f ? { code: 213, message: `213 ${f.length}` } : { code: 550, message: "550 none" };
      }
      case "DELE":
        return this.files.delete(arg)
          ? { code: 250, message: "250 deleted" }
          : { code: 550, message: "550 no such file" };
      default:
        return { code: 502, message: "502 not implemented" };
    }
  }
}
