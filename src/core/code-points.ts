// Characters as the SDX API counts them (a job body is limited to 10,000 of them): code points, so
// an emoji is one character, not the two UTF-16 units of a JavaScript string's length.

// A regular expression rather than a loop over the string: the engine runs compiled code from the
// first call, where a loop would run interpreted over a 200 KB script until V8 finds it hot.
const SURROGATE = /[\uD800-\uDFFF]/;
/** A surrogate pair: one code point in two UTF-16 units. */
export const SURROGATE_PAIRS = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;

/** Characters as the SDX API counts them: code points, a surrogate pair counting once (a lone surrogate counts once too). */
export function codePointLength(s: string): number {
  return SURROGATE.test(s) ? s.length - (s.match(SURROGATE_PAIRS)?.length ?? 0) : s.length;
}

/** Does `s` hold any surrogate (so that its length and its code-point count may differ)? */
export function hasSurrogates(s: string): boolean {
  return SURROGATE.test(s);
}
