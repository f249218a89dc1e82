/**
 * `NodeStream` (`src/ftp/node_stream.ts`), the node:net/node:tls socket under
 * FTPS's native transport: bytes read as the peer sent them and the end of
 * the stream as `null`; `close` after the writes is an orderly end (the
 * peer gets every byte, then its end); `close` while a write waits on a
 * peer that stopped reading (a transfer cut) destroys the socket at once and
 * the write fails, instead of an orderly end queued behind the stuck bytes.
 */
import assert from "node:assert/strict";
import { createServer, type Server, type Socket } from "node:net";
import { connectSocket, NodeStream } from "../../src/ftp/node_stream.ts";

/** A loopback server; `onConnection` gets each accepted socket. */
async function server(onConnection: (s: Socket) => void): Promise<{ srv: Server; port: number }> {
  const srv = createServer(onConnection);
  await new Promise<void>((r) => srv.listen(0, "127.0.0.1", r));
  return { srv, port: (srv.address() as { port: number }).port };
}

/** Reads `count` bytes, a few at a time (smaller reads than the chunks that came). */
async function readBytes(stream: NodeStream, count: number): Promise<Uint8Array> {
  const parts: number[] = [];
  const buf = new Uint8Array(7);
  while (parts.length < count) {
    const n = await stream.read(buf);
    if (n === null) break;
    parts.push(...buf.subarray(0, n));
  }
  return new Uint8Array(parts);
}

Deno.test("NodeStream: reads what the peer sent; close ends after the writes; then null", async () => {
  const got: Uint8Array[] = [];
  const ended = Promise.withResolvers<void>();
  const greeting = "220 hello there\r\n";
  const { srv, port } = await server((s) => {
    s.on("data", (c: Uint8Array) => got.push(new Uint8Array(c)));
    s.on("end", () => {
      ended.resolve();
      s.end();
    });
    s.write(new TextEncoder().encode(greeting));
  });
  try {
    const stream = new NodeStream(await connectSocket("127.0.0.1", port, 5000));
    const read = await readBytes(stream, greeting.length);
    assert.equal(new TextDecoder().decode(read), greeting);
    const payload = new Uint8Array(300_000).map((_, i) => i & 0xff);
    assert.equal(await stream.write(payload), payload.length);
    stream.close();
    await ended.promise;
    assert.deepEqual(new Uint8Array(got.flatMap((c) => [...c])), payload);
    assert.equal(await stream.read(new Uint8Array(8)), null);
  } finally {
    srv.close();
  }
});

Deno.test("NodeStream: close while a write waits on a peer that does not read cuts at once", async () => {
  const accepted: Socket[] = [];
  const { srv, port } = await server((s) => {
    s.pause(); // never reads: the writer's buffers fill
    accepted.push(s);
  });
  try {
    const stream = new NodeStream(await connectSocket("127.0.0.1", port, 5000));
    const big = new Uint8Array(64 * 1024 * 1024);
    const writing = stream.write(big).then(() => "written", () => "rejected");
    // Give the socket a moment to fill the kernel buffers (no timing is asserted).
    await new Promise((r) => setTimeout(r, 200));
    stream.close();
    // Cut at once (not an orderly end queued behind the stuck bytes), and the write settles.
    assert.equal(stream.socket.destroyed, true);
    assert.notEqual(await writing, "written");
  } finally {
    for (const s of accepted) s.destroy();
    srv.close();
  }
});
