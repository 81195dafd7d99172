"""Post-processing of predictions: "remove all but one occurrence of any repeated substring at the end
of a prediction" (paper.md, "Decoding ... Post-processing").

Degenerate decoding loops on a phrase until the length limit; the paper cuts the loop back to one
copy. The paper does not say what a unit of repetition is, so xgen defines it on tokens:

- a token is a word of a spaced script (a run of letters, digits and combining marks; digits
  joined by "." or "," stay one token, so "1.000.000" is not a loop), or a single other
  non-space character: punctuation, or one character of a script written without spaces
  (Thai, Lao, Khmer, Myanmar, Tibetan, kana, CJK ideographs);
- whitespace separates tokens and is ignored when comparing them, so "a b a b a b" and
  "Cut the paper.\\nCut the paper." are loops whatever their spacing;
- words are atoms: letters inside a word never repeat as a loop, so "coffee", "1000", "XIII" and
  "couscous" survive (and so does "aaaa");
- a unit is one or more tokens; the text must end with k >= 2 copies of it, or k >= 3 when the unit
  is one lone character (punctuation, Thai, CJK), so the doubled characters that spelling uses
  (妈妈, 谢谢, "!!") stay, while "hello!!!!!" becomes "hello!" (and "..." becomes ".");
- among the units that qualify, the one that removes the most tokens wins, ties to the shorter:
  preferring the shortest unit outright would trim "a b b a b b a b b" at its last "b b" and leave
  a loop no rule can remove;
- the text is cut right after the first copy, trailing whitespace included, and the rule is applied
  again until nothing changes, so nested loops collapse: "a b b a b b" -> "a b b" -> "a b", and
  "x y z z z" -> "x y z".

So the result is always a prefix of the input, and applying the function twice changes nothing.
Cost: O(n) to tokenize, O(T) per cut with a Z-function over the T tokens, at most T cuts.
"""

import unicodedata

# Scripts written without spaces between words: each character is a token of its own.
_UNSPACED = (
    (0x0E00, 0x0EFF),  # Thai, Lao
    (0x0F00, 0x0FFF),  # Tibetan
    (0x1000, 0x109F),  # Myanmar
    (0x1780, 0x17FF),  # Khmer
    (0x3005, 0x3007),  # CJK iteration mark, ideographic zero
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFF66, 0xFF9F),  # halfwidth Katakana
    (0x20000, 0x3FFFF),  # CJK extensions B and later
)


def _is_word_char(c: str) -> bool:
    if c.isspace():
        return False
    code = ord(c)
    if any(lo <= code <= hi for lo, hi in _UNSPACED):
        return False
    # Combining marks belong to the word: Devanagari vowel signs, Arabic and Vietnamese diacritics.
    return c.isalnum() or c == "_" or unicodedata.category(c).startswith("M")


def _tokens(text: str) -> tuple[list[str], list[int]]:
    """Tokens and the offset just past each one."""
    tokens: list[str] = []
    ends: list[int] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        j = i + 1
        if _is_word_char(c):
            while j < n:
                d = text[j]
                if _is_word_char(d):
                    j += 1
                elif d in ".," and text[j - 1].isdigit() and j + 1 < n and text[j + 1].isdigit():
                    j += 2
                else:
                    break
        tokens.append(text[i:j])
        ends.append(j)
        i = j
    return tokens, ends


def _z_function(seq: list[str]) -> list[int]:
    """z[m] = length of the longest common prefix of seq and seq[m:] (z[0] = len(seq))."""
    n = len(seq)
    z = [0] * n
    if n:
        z[0] = n
    lo = hi = 0
    for m in range(1, n):
        k = min(hi - m, z[m - lo]) if m < hi else 0
        while m + k < n and seq[k] == seq[m + k]:
            k += 1
        z[m] = k
        if m + k > hi:
            lo, hi = m, m + k
    return z


def _tokens_to_keep(tokens: list[str]) -> int:
    """How many leading tokens remain once the best loop at the end is cut to one copy."""
    t = len(tokens)
    # On the reversed tokens, z[m] is how far the last m tokens repeat backwards:
    # the text ends with 1 + z[m] // m copies of its last m tokens.
    z = _z_function(tokens[::-1])
    best_removed, best = 0, t
    for m in range(1, t // 2 + 1):
        copies = 1 + z[m] // m
        needed = 3 if m == 1 and not _is_word_char(tokens[-1][0]) else 2
        removed = (copies - 1) * m
        if copies >= needed and removed > best_removed:
            best_removed, best = removed, t - removed
    return best


def remove_repeated_suffix(text: str) -> str:
    """Cut loops at the end of `text` back to one copy; see the module docstring for the rule."""
    tokens, ends = _tokens(text)
    keep = len(tokens)
    while True:
        new_keep = _tokens_to_keep(tokens[:keep])
        if new_keep == keep:
            break
        keep = new_keep
    if keep == len(tokens):
        return text
    return text[: ends[keep - 1]]
