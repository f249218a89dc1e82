/**
 * The embedded server's file system: ftp-srv's, with resume semantics real
 * servers have and ftp-srv lacks.
 *
 * @module
 */
import { FileSystem } from "ftp-srv";
import {
  closeSync,
  constants,
  createWriteStream,
  fstatSync,
  ftruncateSync,
  openSync,
} from "node:fs";

/**
 * ftp-srv FileSystem with correct resume semantics. STOR after `REST n` (n>0) opens the file
 * read-write (created if missing), truncates it to n and writes from n: the prefix is kept and
 * the file ends where the upload ends. Plain STOR truncates, APPE appends. A failed upload
 * leaves its partial file (ftp-srv deletes it), so it can be resumed.
 */
export class ResumableFileSystem extends FileSystem {
  override write(fileName: string, { append = false, start = 0 } = {}) {
    const { fsPath, clientPath } = this.#resolve(fileName);
    const fd = openSync(
      fsPath,
      append ? "a" : start > 0 ? constants.O_RDWR | constants.O_CREAT : "w",
    );
    try {
      if (!append && start > 0) ftruncateSync(fd, start);
      const offset = append ? fstatSync(fd).size : start;
      const stream = createWriteStream("", { fd, start: append ? undefined : start });
      return { stream, clientPath, offset };
    } catch (err) {
      closeSync(fd);
      throw err;
    }
  }

  /**
   * Answer MKD with the FTP path (ftp-srv would reveal the local path), and fail on a folder
   * that exists, as vsftpd and pure-ftpd do (ftp-srv's recursive mkdir would report success).
   */
  override async mkdir(path: string) {
    const { fsPath, clientPath } = this.#resolve(path);
    await Deno.mkdir(fsPath);
    return clientPath;
  }

  /** ftp-srv's sandboxing: normalizes against "/" first, so ".." cannot leave root. */
  #resolve(path: string): { fsPath: string; clientPath: string } {
    // deno-lint-ignore no-explicit-any
    return (this as any)._resolvePath(path);
  }
}
