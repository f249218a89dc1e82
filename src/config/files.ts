/**
 * Validation of `files`: each entry's source and destination, one
 * destination per file, no destination inside another, and no destination
 * that looks like one of this tool's temporary names. A folder entry's own
 * keys are read by `tree.ts`; two folder entries must not share a tree.
 *
 * @module
 */

import { basename, posix, resolve, sep } from "node:path";
import type { FileEntry } from "./types.ts";
import { all, type Check, got, Reader, text } from "./checks.ts";
import { readTree, TREE_KEYS } from "./tree.ts";
import { normalizeDestination, parentDirs } from "../ftp/remote_path.ts";
import { TEMP_MARK } from "../upload/temp_name.ts";

const FILE_KEYS = ["source", "destination", ...TREE_KEYS];
const EXAMPLE = '[{ "source": "docs/a.txt", "destination": "/incoming/a.txt" }]';

/** A source written as a folder: a trailing "/" (or the OS separator), ".", "..". */
function looksLikeFolder(s: string): boolean {
  if (s.endsWith("/") || s.endsWith(sep)) return true;
  return s.endsWith(".") && [".", ".."].includes(basename(s));
}

/**
 * An absolute POSIX path that `posix.normalize` and `posix.join("/", …)` give
 * back as it is, in plain ASCII (so NFC too): no "//", no "." or ".."
 * segment, no trailing "/". Configs of many files are nearly all such paths;
 * this test lets them skip the general path code, which dominated validating
 * 100,000 entries.
 */
function isPlainPath(s: string): boolean {
  return s.length > 1 && s.charCodeAt(0) === 47 && PLAIN.test(s) && !s.endsWith("/") &&
    !s.includes("//") && !s.includes("/./") && !s.includes("/../") &&
    !s.endsWith("/.") && !s.endsWith("/..");
}

const PLAIN = /^[\x20-\x7e]*$/;

/** The absolute local path of `source`, as `resolve(dir, source)`. */
function localPath(dir: string, source: string): string {
  // On POSIX, resolve() gives a plain absolute path back unchanged.
  return sep === "/" && isPlainPath(source) ? source : resolve(dir, source);
}

/** A folder entry's destination: any absolute path without ".." (the root included). */
const folderDestinationCheck: Check = (value) => {
  const d = value as string;
  if (!d.startsWith("/")) {
    return `must be an absolute remote path starting with "/", e.g. ${JSON.stringify("/" + d)}`;
  }
  return d.split("/").includes("..")
    ? 'must not contain ".." segments; write the full path from "/"'
    : undefined;
};

const destinationCheck: Check = (value) => {
  const d = value as string;
  if (isPlainPath(d)) return undefined;
  const segments = d.split("/");
  if (!d.startsWith("/")) {
    return `must be an absolute remote path starting with "/", e.g. ${JSON.stringify("/" + d)}`;
  }
  if (segments.includes("..")) {
    return 'must not contain ".." segments; write the full path from "/"';
  }
  if (posix.normalize(d) === "/") {
    return 'must name a file, not the root folder; write "/<file name>"';
  }
  if (segments.at(-1) === ".") {
    return 'names a folder; end it with "/" to keep the source file name, or add a file name';
  }
  return undefined;
};

/**
 * True for a name shaped like an atomic upload's temporary file
 * (`.<name>.ftpbatch-<fingerprint>.part`): uploading to one could be taken
 * for, or be overwritten by, another file's temporary copy.
 */
export function looksLikeTempName(path: string): boolean {
  if (!path.includes(TEMP_MARK)) return false; // nearly every name: no basename to cut
  const base = posix.basename(path);
  return base.startsWith(".") && base.includes(TEMP_MARK) && base.endsWith(".part");
}

const TEXT = text();
const FILE_DESTINATION = all(TEXT, destinationCheck);
const FOLDER_DESTINATION = all(TEXT, folderDestinationCheck);

export function readFiles(r: Reader, raw: unknown, dir: string): FileEntry[] {
  if (!isFileList(r, raw)) return [];
  const entries: FileEntry[] = [];
  const seen: Seen = { owners: new Map(), folders: [] };
  raw.forEach((item: unknown, index) => {
    const entry = readEntry(r, item, index, dir, seen);
    if (entry) entries.push(entry);
  });
  checkFileFolderClashes(r, entries, seen.owners);
  return entries;
}

/** The destinations of the entries read so far. */
interface Seen {
  /** A file destination -> the first entry with it. */
  owners: Map<string, number>;
  /** The folder entries' remote folders. */
  folders: { index: number; folder: string }[];
}

/** `files` is a non-empty array; else the problem is said. */
function isFileList(r: Reader, raw: unknown): raw is unknown[] {
  if (raw === undefined) {
    r.add("files", `missing; add "files": ${EXAMPLE}`);
    return false;
  }
  if (!Array.isArray(raw) || raw.length === 0) {
    r.add(
      "files",
      `must be a non-empty array like ${EXAMPLE}${
        Array.isArray(raw) ? " (got an empty array)" : got(raw)
      }`,
    );
    return false;
  }
  return true;
}

/** `files[index]`: a file or a folder entry, or undefined where it has a problem. */
function readEntry(
  r: Reader,
  item: unknown,
  index: number,
  dir: string,
  seen: Seen,
): FileEntry | undefined {
  const p = `files[${index}]`;
  const o = r.object(item, p, FILE_KEYS, EXAMPLE.slice(1, -1));
  if (!o) return undefined;
  const source = r.get<string | undefined>(
    o,
    p,
    "source",
    TEXT,
    undefined,
    'add the local file or folder path, e.g. "source": "docs/a.txt"',
  );
  const tree = readTree(r, o, p, source !== undefined && looksLikeFolder(source));
  const destination = r.get<string | undefined>(
    o,
    p,
    "destination",
    tree ? FOLDER_DESTINATION : FILE_DESTINATION,
    undefined,
    'add the remote file path, e.g. "destination": "/incoming/a.txt"',
  );
  if (source === undefined || destination === undefined) return undefined;
  if (!tree && isPlainPath(destination) && !source.endsWith("/")) {
    // The common case, cut short: the destination is already the remote path.
    const remote = fileDestination(r, p, destination, index, seen);
    return remote === undefined
      ? undefined
      : { index, source: localPath(dir, source), destination: remote };
  }
  const folder = posix.join("/", destination).replace(/(.)\/$/, "$1").normalize("NFC");
  if (tree) {
    const other = seen.folders.find((f) => isUnder(folder, f.folder) || isUnder(f.folder, folder));
    if (other) {
      r.add(
        `${p}.destination`,
        `overlaps the folder files[${other.index}] uploads to; give each folder source its own remote folder`,
      );
    }
    seen.folders.push({ index, folder });
    return { index, source: localPath(dir, source), destination: folder, tree };
  }
  const remote = fileDestination(r, p, normalizeDestination(destination, source), index, seen);
  if (remote === undefined) return undefined;
  return {
    index,
    source: localPath(dir, source),
    destination: remote,
    ...(folder !== remote ? { folderDestination: folder } : {}),
  };
}

/**
 * A file entry's remote path, unless it has a temporary name's shape (undefined); a
 * destination that an earlier entry has is said, and the entry is kept all the same.
 */
function fileDestination(
  r: Reader,
  p: string,
  remote: string,
  index: number,
  seen: Seen,
): string | undefined {
  if (looksLikeTempName(remote)) {
    r.add(
      `${p}.destination`,
      `${
        JSON.stringify(posix.basename(remote))
      } has the shape of ftpbatch's temporary names (.<name>${TEMP_MARK}<fingerprint>.part); choose another name`,
    );
    return undefined;
  }
  const first = seen.owners.get(remote);
  if (first === undefined) {
    seen.owners.set(remote, index);
  } else {
    r.add(
      `${p}.destination`,
      `same destination as files[${first}] (${
        JSON.stringify(remote)
      }); give each file its own destination`,
    );
  }
  return remote;
}

/** No remote path may be both a file of one entry and a folder (or a folder above one) of another. */
function checkFileFolderClashes(
  r: Reader,
  entries: FileEntry[],
  owners: ReadonlyMap<string, number>,
): void {
  const clean = new Set<string>();
  for (const entry of entries) {
    if (entry.tree) {
      const other = owners.get(entry.destination);
      if (other !== undefined) {
        r.add(
          `files[${entry.index}].destination`,
          `is the destination file of files[${other}]; a remote path can't be both a file and a folder`,
        );
      }
      continue;
    }
    const dirs = parentDirs(entry.destination);
    // Folders known clean (no file destination there or above) are not looked up again.
    let k = dirs.length;
    while (k > 0 && !clean.has(dirs[k - 1])) k--;
    let chainClean = true;
    for (; k < dirs.length; k++) {
      const folder = dirs[k];
      const other = owners.get(folder);
      if (other === undefined) {
        if (chainClean) clean.add(folder);
        continue;
      }
      chainClean = false;
      r.add(
        `files[${entry.index}].destination`,
        `is inside ${
          JSON.stringify(folder)
        }, which is the destination file of files[${other}]; a remote path can't be both a file and a folder, so change one of them`,
      );
    }
  }
}

/** True when `path` is `dir` or lies below it. */
function isUnder(path: string, dir: string): boolean {
  return path === dir || path.startsWith(dir === "/" ? "/" : dir + "/");
}
