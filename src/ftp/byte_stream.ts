/**
 * The seam under the native transport: the bytes of one connection, read
 * and written the way `Deno.Conn` does it. Plain FTP runs on Deno's TCP
 * (a `Deno.TcpConn` is a `ByteStream` as it is); FTPS runs on node:tls
 * sockets wrapped by `node_stream.ts`, because only node:tls can resume the
 * control connection's TLS session on a data connection (see docs/ftps.md).
 * The pipelined command logic above (`control.ts`, `native_transport.ts`)
 * is the same for both.
 *
 * No `node:` import here: the upload worker loads none before its first file.
 *
 * @module
 */

/** One connection's bytes: what `Control` and a transfer need of a socket. */
export interface ByteStream {
  /** Reads into `p`: the count read, `null` at the end of the stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Writes (some of) `p`: the count written. */
  write(p: Uint8Array): Promise<number>;
  /** Closes the connection (a data connection: the end of the file for the server). */
  close(): void;
}

/**
 * How the native transport makes data connections when they are not plain
 * Deno TCP (FTPS): connected plain, and secured after the server's `150`
 * (pyftpdlib drops a data connection that receives a TLS ClientHello before
 * the transfer command), or at once where the server was seen to hold it
 * (`early_tls.ts`).
 */
export interface DataLink {
  /** Opens a TCP connection to `host`:`port` (not secured yet). */
  connect(host: string, port: number): Promise<ByteStream>;
  /** Starts TLS over a connection `connect` made, resuming the control connection's session. */
  secure(raw: ByteStream): Promise<ByteStream>;
}
