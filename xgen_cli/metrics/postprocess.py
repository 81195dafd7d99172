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
- a unit is one or more tokens; the text must end with k >= 2 copies of it, or k >= 3 when the unit
  is one lone character (punctuation, Thai, CJK), so the doubled characters that spelling uses
  (妈妈, 谢谢, "!!") stay, while "hello!!!!!" becomes "hello!" (and "..." becomes ".");
- the token cap stops a loop anywhere, so the copies may be followed by a partial copy, a proper
  prefix of the unit that belongs to the loop and goes with it: "a b c a b c a b" -> "a b c". Its
  last token may itself be cut short: "Fold it. Fold it. Fo" -> "Fold it.";
- where the loop starts is then ambiguous by up to a unit: in "Intro. Step two. Step two. Step" the
  loop is "Step two." after "Intro." or ". Step two" after "Intro". Among the splits with the most
  full copies, the cut goes after the first copy of the earliest that ends on punctuation (the end
  of a sentence or clause), else of the earliest: "Intro. Step two.", and "a b c" above;
- among the units that qualify, the one that removes the most tokens wins, ties to the shorter:
  preferring the shortest unit outright would trim "a b b a b b a b b" at its last "b b" and leave
  a loop no rule can remove;
- words are atoms of the rule above, so "coffee", "1000", "XIII", "couscous" and "aaaa" survive.
  One exception, for a cap that cut a word looping on a group of letters ("sthallthallthallth"):
  the last word is cut to one copy when it ends in >= 3 copies of a unit of >= 2 characters, plus
  an optional partial copy: "sthallthallthallth" -> "sthall". The unit must hold a letter (numbers
  such as "121212" and "1000000" stay) and two different characters besides combining marks
  ("aaaaaa" is not "aa" x 3, and "दीदीदी" repeats one syllable). Three copies, not two, keep
  reduplicated words: "couscous", "bonbon", Korean "두근두근";
- the text is cut right after the first copy, trailing whitespace included, and the rules are
  applied again until nothing changes, so nested loops collapse: "a b b a b b" -> "a b b" -> "a b",
  and "x y z z z" -> "x y z".

So the result is always a prefix of the input, and applying the function twice changes nothing.
Cost: O(n) to tokenize and O(T) per cut with a Z-function over the T tokens (or the characters of
the last word), at most T cuts.
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
    best_removed, best = 0, t
    # The loop ends on whole tokens, or (cut_short = 1) on a last token the cap cut short: then the
    # loop is found in the tokens before it, and that token must begin the token the loop writes next.
    for cut_short in (0, 1):
        head = tokens[: t - cut_short]
        # On the reversed tokens, z[m] is how far the last m tokens repeat backwards: head ends
        # with run = m + z[m] tokens of period m.
        z = _z_function(head[::-1])
        # punct_cut[i]: the first cut at or after i that lands right after punctuation; computed once,
        # so choosing a phase below costs O(1) per unit, not O(m).
        punct_cut = [len(head) + 1] * (len(head) + 2)
        for i in range(len(head), 0, -1):
            punct = unicodedata.category(head[i - 1][0]).startswith("P")
            punct_cut[i] = i if punct else punct_cut[i + 1]
        for m in range(1, len(head) // 2 + 1):
            run = m + z[m]
            lone = m == 1 and not _is_word_char(head[-1][0])
            if run // m < (3 if lone else 2):
                continue
            if cut_short:
                following = head[-m]
                if not (len(tokens[-1]) < len(following) and following.startswith(tokens[-1])):
                    continue
            # The run may start and end inside a copy: every split with the most full copies moves
            # the first copy by 0 .. run % m tokens; the earliest that ends on punctuation wins.
            first = len(head) - run + m
            cut = punct_cut[first] if punct_cut[first] <= first + run % m else first
            if t - cut > best_removed:
                best_removed, best = t - cut, cut
    return best


def _word_chars_to_keep(word: str) -> int:
    """How many leading characters of the last word remain once a letter loop in it is cut."""
    rev = word[::-1]
    z = _z_function(list(rev))
    # The end of the word has period m, so rev[:m] holds the unit's characters (rotated): a letter
    # and a second distinct character besides combining marks must come before index m.
    bases = [i for i, c in enumerate(rev) if not unicodedata.category(c).startswith("M")]
    first_letter = next((i for i, c in enumerate(rev) if c.isalpha()), len(rev))
    second_base = next((i for i in bases if rev[i] != rev[bases[0]]), len(rev))
    best = len(word)
    for m in range(max(2, first_letter + 1, second_base + 1), len(word) // 3 + 1):
        run = m + z[m]
        start = len(word) - run
        if run // m >= 3 and start + m < best:
            best = start + m
    return best


def remove_repeated_suffix(text: str) -> str:
    """Cut loops at the end of `text` back to one copy; see the module docstring for the rule."""
    while True:
        tokens, ends = _tokens(text)
        keep = _tokens_to_keep(tokens)
        if keep < len(tokens):
            text = text[: ends[keep - 1]]
            continue
        if not tokens or not _is_word_char(tokens[-1][0]):
            return text
        last = tokens[-1]
        chars = _word_chars_to_keep(last)
        if chars == len(last):
            return text
        text = text[: ends[-1] - len(last) + chars]
