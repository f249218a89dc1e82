/**
 * Keeps the embedded server's local folder out of its replies: ftp-srv puts
 * Node's error messages into them (`550 ENOENT: no such file or directory,
 * stat '/tmp/root/x'`), which tell a client where the server's files live.
 *
 * @module
 */

/** A reply letter as ftp-srv takes it: text, or `{ message, raw }`. */
type Letter = unknown;

/**
 * A function that rewrites `<root>/x` to the client path `/x` (and `<root>`
 * alone to `/`) in a reply letter, for each of `roots` (the folder as given
 * and its real path, which differ under a symlinked /tmp).
 */
export function clientPathsOnly(roots: string[]): (letter: Letter) => Letter {
  const bare = [...new Set(roots.map((r) => r.replace(/\/+$/, "")).filter((r) => r !== ""))]
    // Longest first, so a root inside another root is replaced whole.
    .sort((a, b) => b.length - a.length);
  if (bare.length === 0) return (letter) => letter;
  const escaped = bare.map((r) => r.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  const pattern = new RegExp(`(?:${escaped.join("|")})(/|(?![^'"\\s)]))`, "g");
  const rewrite = (text: string) => text.replace(pattern, "/");
  return (letter) => {
    if (typeof letter === "string") return rewrite(letter);
    if (letter && typeof letter === "object" && "message" in letter) {
      const m = (letter as { message: unknown }).message;
      if (typeof m === "string") return { ...letter, message: rewrite(m) };
    }
    return letter;
  };
}
