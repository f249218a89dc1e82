/**
 * A bare logged-in FTP control connection for tests that speak to a real
 * server command by command: `send` one line, read one reply; `list` runs
 * MLSD or LIST over a passive data connection and returns the raw bytes.
 * Built on the client's own `Control`, with none of the upload logic.
 *
 * @module
 */

import { Control, timed } from "../../src/ftp/control.ts";
import { parseFeatures, type Reply } from "../../src/ftp/reply.ts";

export interface RawFtp {
  features: Map<string, string>;
  send(line: string): Promise<Reply>;
  /** `MLSD path` or `LIST path`: the listing's bytes and the final reply. */
  list(verb: "MLSD" | "LIST", path: string): Promise<{ bytes: Uint8Array; reply: Reply }>;
  close(): void;
}

const TIMEOUT_MS = 10_000;

export async function rawLogin(
  port: number,
  user = "anonymous",
  password = "anonymous@",
): Promise<RawFtp> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  const control = new Control(conn, TIMEOUT_MS);
  const expect = async (p: Promise<Reply>, ok: (code: number) => boolean, what: string) => {
    const reply = await p;
    if (!ok(reply.code)) throw new Error(`${what}: ${reply.message}`);
    return reply;
  };
  try {
    await expect(control.read(), (c) => c === 220, "greeting");
    const u = await expect(control.send(`USER ${user}`), (c) => c < 400, "USER");
    if (u.code === 331) await expect(control.send(`PASS ${password}`), (c) => c === 230, "PASS");
    await control.send("OPTS UTF8 ON");
    await expect(control.send("TYPE I"), (c) => c === 200, "TYPE I");
    const features = parseFeatures(await control.send("FEAT"));
    return {
      features,
      send: (line) => control.send(line),
      async list(verb, path) {
        const pasv = await expect(control.send("PASV"), (c) => c === 227, "PASV");
        const m = pasv.message.match(/(\d+),(\d+),(\d+),(\d+),(\d+),(\d+)/)!;
        const data = await Deno.connect({
          hostname: "127.0.0.1",
          port: Number(m[5]) * 256 + Number(m[6]),
        });
        const opened = control.send(`${verb} ${path}`, { preliminary: true });
        await expect(opened, (c) => c === 150 || c === 125, verb);
        const bytes = new Uint8Array(
          await timed(new Response(data.readable).arrayBuffer(), TIMEOUT_MS, "listing timed out"),
        );
        return { bytes, reply: await control.read() };
      },
      close: () => control.close(),
    };
  } catch (e) {
    control.close();
    throw e;
  }
}
