"""LEAD-N (xgen_cli/baselines.py): the first N SentencePiece pieces, never a broken character."""

from __future__ import annotations

import pytest

from xgen_cli.baselines import lead

JAPANESE = "木を植える方法。根鉢の二倍の幅の穴を掘ります。木にゆっくり水をやります。"


@pytest.fixture(scope="module")
def latin_spm(tmp_path_factory):
    """A vocabulary of Latin text only: every Japanese character becomes 3 byte pieces."""
    sentencepiece = pytest.importorskip("sentencepiece")
    folder = tmp_path_factory.mktemp("spm")
    text = ["How to plant a tree. Dig a hole twice as wide as the root ball. Water the tree slowly."] * 50
    sentencepiece.SentencePieceTrainer.train(
        sentence_iterator=iter(text), model_prefix=str(folder / "sp"), vocab_size=300, byte_fallback=True,
        character_coverage=1.0, hard_vocab_limit=False, minloglevel=2)
    return str(folder / "sp.model"), sentencepiece.SentencePieceProcessor(model_file=str(folder / "sp.model"))


def test_lead_never_cuts_inside_a_byte_fallback_character(latin_spm):
    path, sp = latin_spm
    assert "<0xE6>" in [sp.id_to_piece(i) for i in sp.encode(JAPANESE)]  # byte fallback is in play
    previous = ""
    for n in range(1, 64):
        prediction = lead(n, path)(JAPANESE)
        assert "\ufffd" not in prediction, n
        assert JAPANESE.startswith(prediction) and len(prediction) >= len(previous)  # a growing prefix
        previous = prediction
    assert previous == JAPANESE[: len(previous)] and len(previous) >= 15


def test_lead_keeps_whole_pieces_of_covered_text(latin_spm):
    path, sp = latin_spm
    article = "Dig a hole twice as wide as the root ball. Water the tree slowly."
    assert lead(5, path)(article) == sp.decode(sp.encode(article)[:5])
