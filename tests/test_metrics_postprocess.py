"""Removing repeated substrings at the end of a prediction (paper.md, "Post-processing")."""

import time

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
        # scripts without spaces repeat character by character
        ("สวัสดีครับครับครับ", "สวัสดีครับ"),
        ("ตัดกระดาษตัดกระดาษ", "ตัดกระดาษ"),
        ("我爱妈妈", "我爱妈妈"),
        ("我们去了商店。我们去了商店。", "我们去了商店。"),
        ("哈哈哈哈", "哈"),
        # nothing to do
        ("Cut the paper along the dotted line.", "Cut the paper along the dotted line."),
        ("trailing space kept ", "trailing space kept "),
        ("", ""),
        ("   ", "   "),
    ],
)
def test_cases(text, expected):
    assert remove_repeated_suffix(text) == expected


def test_long_degenerate_output_is_fast():
    loop = "Fold the paper in half. " * 300 + "Fold the"
    start = time.perf_counter()
    assert remove_repeated_suffix("Intro. " + loop) == "Intro. Fold the paper in half. Fold the"
    assert remove_repeated_suffix(" ".join(map(str, range(2000)))) == " ".join(map(str, range(2000)))
    assert time.perf_counter() - start < 2.0


_texts = st.lists(
    st.one_of(
        st.sampled_from(["a", "b", "ab", "the", "paper", ".", "!", "ครับ", "妈", "1.000", "ж"]),
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
