/**
 * `dirname`, `basename` and `join` for remote (POSIX) paths, with the results
 * of `posix` from `node:path`, for the modules an upload worker loads: the
 * first `node:` import of an isolate sets up Node compatibility in it, which
 * costs each worker about as much CPU as its own code (measured in
 * `docs/benchmarks.md`). `tests/ftp/posix_path_test.ts` holds them to
 * `node:path` on many inputs.
 *
 * @module
 */

/** The folder part of `path`, as `posix.dirname` (its algorithm, slash for slash). */
export function dirname(path: string): string {
  if (path.length === 0) return ".";
  const hasRoot = path.startsWith("/");
  let end = -1;
  let matchedSlash = true;
  for (let i = path.length - 1; i >= 1; i--) {
    if (path[i] === "/") {
      if (!matchedSlash) {
        end = i;
        break;
      }
    } else {
      matchedSlash = false; // past the trailing slashes
    }
  }
  if (end === -1) return hasRoot ? "/" : ".";
  if (hasRoot && end === 1) return "//";
  return path.slice(0, end);
}

/** The last segment of `path` (trailing slashes ignored), as `posix.basename`. */
export function basename(path: string): string {
  let end = path.length;
  while (end > 0 && path[end - 1] === "/") end--;
  if (end === 0) return "";
  return path.slice(path.lastIndexOf("/", end - 1) + 1, end);
}

/** The segments joined by "/" and normalized, as `posix.join`. */
export function join(...parts: string[]): string {
  const joined = parts.filter((p) => p.length > 0).join("/");
  return joined.length === 0 ? "." : normalize(joined);
}

/** `.` and `..` resolved, repeated slashes collapsed, a trailing slash kept: `posix.normalize`. */
export function normalize(path: string): string {
  if (path.length === 0) return ".";
  const absolute = path.startsWith("/");
  const trailing = path.endsWith("/");
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!absolute) out.push("..");
      continue;
    }
    out.push(seg);
  }
  let result = out.join("/");
  if (result.length === 0 && !absolute) result = ".";
  if (result.length > 0 && trailing) result += "/";
  return absolute ? `/${result}` : result;
}
