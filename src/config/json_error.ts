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

/**
 * Offset (UTF-16) and reason of the first JSON syntax error in `text`, or
 * `undefined` if there is none. Only called after `JSON.parse` failed.
 */
function findJsonError(
  text: string,
): { offset: number; reason: string } | undefined {
  let i = 0;
  class Stop {
    constructor(readonly reason: string) {}
  }
  const stop = (reason: string) => {
    throw new Stop(reason);
  };
  const skipSpace = () => {
    while (i < text.length && " \t\r\n".includes(text[i])) i++;
    if (text[i] === "/") stop("comments are not allowed in JSON; remove it");
  };
  const string = () => {
    i++;
    for (;;) {
      const c = text[i];
      if (c === undefined) stop('unterminated string; add the closing "');
      if (c === '"') {
        i++;
        return;
      }
      if (c < " ") {
        stop(
          "control character or line break inside a string; write it as \\n, \\t, ...",
        );
      }
      if (c !== "\\") {
        i++;
        continue;
      }
      i++;
      if (text[i] === "u") {
        for (let k = 0; k < 4; k++) {
          i++;
          if (!/[0-9a-fA-F]/.test(text[i] ?? "")) {
            stop("\\u must be followed by 4 hex digits");
          }
        }
      } else if (!'"\\/bfnrt'.includes(text[i] ?? "x")) {
        stop('invalid escape in a string; write a backslash as "\\\\"');
      }
      i++;
    }
  };
  const digits = () => {
    const start = i;
    while (text[i] >= "0" && text[i] <= "9") i++;
    return i > start;
  };
  // Positions match V8's where it gives one: at the first wrong character.
  const number = () => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else if (!digits()) stop("expected a digit");
    if (text[i] === ".") {
      i++;
      if (!digits()) stop("expected a digit after '.'");
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!digits()) stop("expected a digit in the exponent");
    }
  };
  const value = (): void => {
    skipSpace();
    const c = text[i];
    if (c === '"') return string();
    if (c === "{" || c === "[") {
      const close = c === "{" ? "}" : "]";
      i++;
      skipSpace();
      if (text[i] === close) {
        i++;
        return;
      }
      for (;;) {
        skipSpace();
        if (close === "}") {
          if (text[i] !== '"') {
            stop(
              "expected a property name in double quotes (no comma after the last property)",
            );
          }
          string();
          skipSpace();
          if (text[i] !== ":") stop("expected ':' after the property name");
          i++;
        } else if (text[i] === "]") {
          stop("expected a value (no comma after the last item)");
        }
        value();
        skipSpace();
        if (text[i] === close) {
          i++;
          return;
        }
        if (text[i] !== ",") {
          stop(
            text[i] === undefined
              ? `unexpected end of text; add the missing '${close}'`
              : `expected ',' or '${close}'; a comma may be missing`,
          );
        }
        i++;
      }
    }
    if (c === "-" || (c >= "0" && c <= "9")) return number();
    for (const word of ["true", "false", "null"]) {
      if (c !== word[0]) continue;
      for (const expected of word) {
        if (text[i] !== expected) stop(`expected ${word}`);
        i++;
      }
      return;
    }
    stop(
      c === undefined
        ? "unexpected end of text; the file looks empty or cut off"
        : "expected a value: a string in double quotes, number, true, false, null, object or array",
    );
  };
  try {
    value();
    skipSpace();
    if (i < text.length) stop("unexpected text after the end of the JSON");
    return undefined;
  } catch (e) {
    if (e instanceof Stop) return { offset: i, reason: e.reason };
    return undefined; // e.g. stack overflow on absurd nesting
  }
}
