/**
 * What raw SQL text looks like from outside, without SQLite: its first keyword and whether it holds
 * more than one statement. The router resends a read after a hand-off, so "read" must mean every
 * statement in the text reads: `select 1; insert ...` is not a read, even though it starts as one.
 */

export interface SqlShape {
  /** The first word, lowercased, after leading whitespace and comments ('' if none). */
  readonly keyword: string
  /** True when the text holds at most one statement (a trailing `;` and comments allowed). */
  readonly single: boolean
}

/** Reads `sql` once, skipping string literals, quoted names and comments. */
export function sqlShape(sql: string): SqlShape {
  let i = skipBlank(sql, 0)
  let end = i
  while (end < sql.length && isWordChar(sql.charCodeAt(end))) end++
  const keyword = sql.slice(i, end).toLowerCase()
  // The common case, and a long raw statement is not read character by character.
  if (sql.indexOf(';', end) < 0) return { keyword, single: true }
  i = end
  let ended = false
  while (i < sql.length) {
    const c = sql[i]!
    if (isSpace(sql.charCodeAt(i))) {
      i++
      continue
    }
    if (c === '-' && sql[i + 1] === '-') {
      i = lineEnd(sql, i)
      continue
    }
    if (c === '/' && sql[i + 1] === '*') {
      i = blockEnd(sql, i)
      continue
    }
    if (ended) return { keyword, single: false }
    if (c === '$' || c === ':' || c === '@' || c === '#') {
      // A named parameter may carry a Tcl-style `(...)` suffix holding anything up to its `)`,
      // quotes and comment marks included (SQLite's tokenizer): too rare to read, so say "several".
      let j = i + 1
      while (j < sql.length && isNameChar(sql.charCodeAt(j))) j++
      if (sql[j] === '(') return { keyword, single: false }
      i = j
      continue
    }
    if (c === ';') ended = true
    else if (c === "'" || c === '"' || c === '`') i = quotedEnd(sql, i, c) - 1
    else if (c === '[') i = closing(sql, i, ']') - 1
    i++
  }
  return { keyword, single: true }
}

/** SQLite's own whitespace: space, tab, newline, form feed, carriage return. */
function isSpace(code: number): boolean {
  return code === 32 || (code >= 9 && code <= 13)
}

/** What SQLite's tokenizer takes into a parameter's name: letters, digits, `_`, `$`, `:`, and every non-ASCII character. */
function isNameChar(code: number): boolean {
  return isWordChar(code) || (code >= 48 && code <= 58) || code === 36 || code >= 128
}

function isWordChar(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95
}

function skipBlank(sql: string, i: number): number {
  while (i < sql.length) {
    if (isSpace(sql.charCodeAt(i))) i++
    else if (sql.startsWith('--', i)) i = lineEnd(sql, i)
    else if (sql.startsWith('/*', i)) i = blockEnd(sql, i)
    else break
  }
  return i
}

function lineEnd(sql: string, i: number): number {
  const nl = sql.indexOf('\n', i)
  return nl < 0 ? sql.length : nl + 1
}

function blockEnd(sql: string, i: number): number {
  const close = sql.indexOf('*/', i + 2)
  return close < 0 ? sql.length : close + 2
}

/** Past the closing quote; a doubled quote inside is an escaped one. */
function quotedEnd(sql: string, i: number, quote: string): number {
  let j = i + 1
  for (;;) {
    const close = sql.indexOf(quote, j)
    if (close < 0) return sql.length
    if (sql[close + 1] === quote) j = close + 2
    else return close + 1
  }
}

function closing(sql: string, i: number, close: string): number {
  const at = sql.indexOf(close, i + 1)
  return at < 0 ? sql.length : at + 1
}
