/**
 * Locates a JSON syntax error for the user: "invalid JSON at line L, column C:
 * <reason>". Needed because V8's SyntaxError has no position for common
 * mistakes such as a trailing comma, and it quotes the source text, which may
 * hold a password. Nothing here ever returns text from the file.
 *
 * @module
 */

/** "invalid JSON at line L, column C: <reason>", located by {@linkcode findJsonError}. */
export function jsonErrorMessage(text: string): string {
  const error = findJsonError(text);
  if (!error) return "invalid JSON; check the syntax";
  const before = text.slice(0, error.offset);
  const line = before.split("\n").length;
  // Code points, as editors count them.
  const column = [...before.slice(before.lastIndexOf("\n") + 1)].length + 1;
  return `invalid JSON at line ${line}, column ${column}: ${error.reason}`;
}

/** A recursive descent over JSON that stops at the first syntax error (`Stop`). */
class JsonScan {
  i = 0;
  constructor(readonly text: string) {}

  stop(reason: string): never {
    throw new Stop(reason);
  }

  skipSpace() {
    while (this.i < this.text.length && " \t\r\n".includes(this.text[this.i])) this.i++;
    if (this.text[this.i] === "/") this.stop("comments are not allowed in JSON; remove it");
  }
  string() {
    this.i++;
    for (;;) {
      const c = this.text[this.i];
      if (c === undefined) this.stop('unterminated string; add the closing "');
      if (c === '"') {
        this.i++;
        return;
      }
      if (c < " ") {
        this.stop(
          "control character or line break inside a string; write it as \\n, \\t, ...",
        );
      }
      if (c !== "\\") {
        this.i++;
        continue;
      }
      this.i++;
      if (this.text[this.i] === "u") {
        for (let k = 0; k < 4; k++) {
          this.i++;
          if (!/[0-9a-fA-F]/.test(this.text[this.i] ?? "")) {
            this.stop("\\u must be followed by 4 hex digits");
          }
        }
      } else if (!'"\\/bfnrt'.includes(this.text[this.i] ?? "x")) {
        this.stop('invalid escape in a string; write a backslash as "\\\\"');
      }
      this.i++;
    }
  }
  digits() {
    const start = this.i;
    while (this.text[this.i] >= "0" && this.text[this.i] <= "9") this.i++;
    return this.i > start;
  }
  // Positions match V8's where it gives one: at the first wrong character.
  number() {
    if (this.text[this.i] === "-") this.i++;
    if (this.text[this.i] === "0") this.i++;
    else if (!this.digits()) this.stop("expected a digit");
    if (this.text[this.i] === ".") {
      this.i++;
      if (!this.digits()) this.stop("expected a digit after '.'");
    }
    if (this.text[this.i] === "e" || this.text[this.i] === "E") {
      this.i++;
      if (this.text[this.i] === "+" || this.text[this.i] === "-") this.i++;
      if (!this.digits()) this.stop("expected a digit in the exponent");
    }
  }
  value(): void {
    this.skipSpace();
    const c = this.text[this.i];
    if (c === '"') return this.string();
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      this.i++;
      this.skipSpace();
      if (this.text[this.i] === close) {
        this.i++;
        return;
      }
      for (;;) {
        this.skipSpace();
        if (close === "}") {
          if (this.text[this.i] !== '"') {
            this.stop(
              "expected a property name in double quotes (no comma after the last property)",
            );
          }
          this.string();
          this.skipSpace();
          if (this.text[this.i] !== ":") this.stop("expected ':' after the property name");
          this.i++;
        } else if (this.text[this.i] === "]") {
          this.stop("expected a value (no comma after the last item)");
        }
        this.value();
        this.skipSpace();
        if (this.text[this.i] === close) {
          this.i++;
          return;
        }
        if (this.text[this.i] !== ",") {
          this.stop(
            this.text[this.i] === undefined
              ? `unexpected end of text; add the missing '${close}'`
              : `expected ',' or '${close}'; a comma may be missing`,
          );
        }
        this.i++;
      }
    }
    if (c === "-" || (c >= "0" && c <= "9")) return this.number();
    for (const word of ["true", "false", "null"]) {
      if (c !== word[0]) continue;
      for (const expected of word) {
        if (this.text[this.i] !== expected) this.stop(`expected ${word}`);
        this.i++;
      }
      return;
    }
    this.stop(
      c === undefined
        ? "unexpected end of text; the file looks empty or cut off"
        : "expected a value: a string in double quotes, number, true, false, null, object or array",
    );
  }
}

class Stop {
  constructor(readonly reason: string) {}
}

/**
 * Offset (UTF-16) and reason of the first JSON syntax error in `text`, or
 * `undefined` if there is none. Only called after `JSON.parse` failed.
 */
function findJsonError(
  text: string,
): { offset: number; reason: string } | undefined {
  const scan = new JsonScan(text);
  try {
    scan.value();
    scan.skipSpace();
    if (scan.i < text.length) scan.stop("unexpected text after the end of the JSON");
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return { offset: scan.i, reason: e.reason };
    return undefined; // e.g. stack overflow on absurd nesting
  }
}
