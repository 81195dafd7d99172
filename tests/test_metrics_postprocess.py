"""Removing repeated substrings at the end of a prediction (paper.md, "Post-processing")."""


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xgen_cli.metrics.postprocess import remove_repeated_suffix


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # words repeat whatever the spacing, and no dangling space is left
        ("a b a b a b", "a b"),
        ("x y z z z", "x y z"),
        ("x y z z", "x y z"),
        ("Cut the paper.\nCut the paper.\nCut the paper.", "Cut the paper."),
        ("Cut the paper. Cut the paper.\n  ", "Cut the paper."),
        # a loop after a prefix that does not repeat
        ("Intro. Step one. Step two. Step two. Step two.", "Intro. Step one. Step two."),
        ("Сложите лист пополам. пополам. пополам.", "Сложите лист пополам."),
        # nested loops collapse; the biggest loop goes first, then the one inside
        ("a b b a b b", "a b"),
        ("a b b a b b a b b", "a b"),
        ("go go go now now", "go go go now"),
        # one lone character needs three copies; words are atoms
        ("hello!!!!!", "hello!"),
        ("hello!!", "hello!!"),
        ("He said...", "He said."),
        ("aaaa", "aaaa"),
        ("coffee", "coffee"),
        ("in 1000", "in 1000"),
        ("1.000.000", "1.000.000"),
        ("Louis XIII", "Louis XIII"),
        ("दीदी", "दीदी"),
        # a partial copy after the loop goes with it (the token cap stopped the loop mid-copy)
        ("a b c a b c a b", "a b c"),
        ("a b c a b c a", "a b c"),
        ("x a b c a b c a b c a b", "x a b c"),
        ("Fold it. Fold it. Fold", "Fold it."),
        ("Fold it. Fold it. Fo", "Fold it."),  # ... even its last word cut short
        ("Paper. Paper. P", "Paper."),
        ("word word wo", "word"),
        # ... but only a prefix of the unit is a partial copy; anything else ends the text
        ("a b c a b c b", "a b c a b c b"),
        ("a b c a b c a x", "a b c a b c a x"),
        ("Fold it. Fold it. Fix", "Fold it. Fold it. Fix"),
        ("Fold it. Fold it. Folded", "Fold it. Fold it. Folded"),
        ("a b c a b", "a b c a b"),  # one full copy and a partial is no loop
        # where the loop starts is ambiguous by a unit: the cut that ends on punctuation wins
        ("Intro. Step two. Step two. Step", "Intro. Step two."),
        # ... among the splits with the most copies: ". Step two" x 3 beats "Step two." x 2 + partial
        ("Intro. Step two. Step two. Step two", "Intro. Step two"),
        ("Hi, go on, go on, go", "Hi, go on,"),
        # a word the cap cut while it looped on a group of letters: >= 3 copies, then a partial one
        ("ตัดกระดาษ sthallthallthallth", "ตัดกระดาษ sthall"),
        ("sthallthallthallthallth", "sthall"),
        ("sthallthallthall", "sthall"),
        ("Fold it. thallthallthallt", "Fold it. thall"),
        ("Cut it sthallthallthall sthallthallthall", "Cut it sthall"),  # token loop first, then the word
        ("thallthallth", "thallthallth"),  # two copies and a partial: a word may repeat a syllable
        ("sthallthallthallthx", "sthallthallthallthx"),  # the partial copy must be a prefix of the unit
        ("дидиди", "ди"),
        ("hahaha", "ha"),
        ("couscouscous", "cous"),
        # ... real words survive: two copies, one repeated character, numbers, one syllable
        ("couscous", "couscous"),
        ("bonbon", "bonbon"),
        ("두근두근", "두근두근"),
        ("aaaaaaa", "aaaaaaa"),
        ("in 1000000", "in 1000000"),
        ("call 121212", "call 121212"),
        ("दीदीदी", "दीदीदी"),
        ("Mississippi", "Mississippi"),
        ("sthallthallthall is the word", "sthallthallthall is the word"),  # only the last word
        # scripts without spaces repeat character by character
        ("สวัสดีครับครับครับ", "สวัสดีครับ"),
        ("ตัดกระดาษตัดกระดาษ", "ตัดกระดาษ"),
        ("我爱妈妈", "我爱妈妈"),
        ("我们去了商店。我们去了商店。", "我们去了商店。"),
        ("哈哈哈哈", "哈"),
        ("สวัสดีครับครับครับคร", "สวัสดีครับ"),  # a partial copy in Thai ...
        ("สวัสดีครับครับคร", "สวัสดีครับ"),
        ("สวัสดีครับครับครั", "สวัสดีครับ"),
        ("我们去了商店。我们去了商店。我们去", "我们去了商店。"),  # ... and in Chinese
        ("我们去了商店。我们去了商店。他", "我们去了商店。我们去了商店。他"),  # not a partial copy
        # nothing to do
        ("Cut the paper along the dotted line.", "Cut the paper along the dotted line."),
        ("trailing space kept ", "trailing space kept "),
        ("", ""),
        ("   ", "   "),
    ],
)
def test_cases(text, expected):
    assert remove_repeated_suffix(text) == expected


def test_long_degenerate_output():
    # Their speed (linear in the length: every unit length qualifies in "a a a ...") is bench/postprocess.py's.
    loop = "Fold the paper in half. " * 300 + "Fold the"
    assert remove_repeated_suffix("Intro. " + loop) == "Intro. Fold the paper in half."
    assert remove_repeated_suffix(" ".join(map(str, range(2000)))) == " ".join(map(str, range(2000)))
    # every unit length qualifies here: the per-unit work must be O(1), not O(unit)
    assert remove_repeated_suffix("a " * 3000) == "a"
    assert remove_repeated_suffix("x" + "a" * 50000) == "x" + "a" * 50000
    assert remove_repeated_suffix("x" + "ab" * 25000 + "a") == "xab"


_texts = st.lists(
    st.one_of(
        st.sampled_from(["a", "b", "ab", "the", "paper", ".", "!", "ครับ", "妈", "1.000", "ж", "thall", "th", "Fo", "Fold"]),
        st.sampled_from([" ", "\n", ""]),
        st.text(alphabet="ab.! กข妈\n", max_size=4),
    ),
    max_size=30,
).map("".join)


@settings(max_examples=100, deadline=None)
@given(_texts)
def test_output_is_a_prefix_and_idempotent(text):
    once = remove_repeated_suffix(text)
    assert text.startswith(once)
    assert remove_repeated_suffix(once) == once
    assert once.strip() or not text.strip()  # never cuts a text down to nothing


@settings(max_examples=200, deadline=None)
@given(
    unit=st.lists(st.sampled_from(["a", "b", "ab", "paper", "ครับ", "妈", "ж"]), min_size=1, max_size=4),
    copies=st.integers(3, 6),
    stop=st.integers(0, 1000),
)
def test_a_loop_stopped_anywhere_keeps_at_most_one_copy(unit, copies, stop):
    # the cap stops a loop at any character; what follows the text before it is cut to one copy
    # (or less, where the unit itself holds a loop: "a a" -> "a")
    before = "Intro one two "
    copy = " ".join(unit) + " "
    out = remove_repeated_suffix(before + copy * copies + copy[: stop % len(copy)])
    assert out.startswith(before.strip()) and len(out) <= len(before + copy.strip())
