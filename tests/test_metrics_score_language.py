"""`score_language`: one results-table row; the metrics package stays free of torch."""

import subprocess
import sys

import pytest
import sentencepiece

from xgen_cli.metrics import SpRouge, score_language


@pytest.fixture(scope="module")
def sp_rouge(tmp_path_factory):
    folder = tmp_path_factory.mktemp("spm")
    lines = ["Cut the paper along the dotted line.", "Coupez le papier le long de la ligne."] * 50
    (folder / "corpus.txt").write_text("\n".join(lines), encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(
        input=str(folder / "corpus.txt"),
        model_prefix=str(folder / "tiny"),
        vocab_size=280,
        byte_fallback=True,
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
    )
    return SpRouge(folder / "tiny.model")


def test_row_has_every_metric(sp_rouge):
    predictions = [
        "Coupez le papier le long de la ligne pointillée, puis pliez-le en deux.",
        "Coupez le papier le long de la ligne pointillée, puis pliez-le en deux.",
        "",
        "Cut the paper along the dotted line and fold it in half before gluing.",
    ]
    references = ["Coupez le papier.", "Coupez le papier.", "Pliez.", "Coupez."]
    row = score_language(predictions, references, "fr", sp_rouge)
    assert set(row) == {"n", "sp_rouge", "lid_target", "lid_en", "ascii", "distinct", "empty"}
    assert row["n"] == 4
    assert 0 < row["sp_rouge"] < 100
    assert 45 < row["lid_target"] <= 50  # two of four confidently French
    assert 20 < row["lid_en"] <= 25  # one of four confidently English
    assert 95 < row["ascii"] < 100  # "é" twice; the empty one left out
    assert row["distinct"] == 75.0
    assert row["empty"] == 25.0


def test_length_mismatch_is_an_error(sp_rouge):
    with pytest.raises(ValueError):
        score_language(["a"], [], "fr", sp_rouge)


def test_imports_no_torch():
    heavy = "('torch', 'transformers', 'lightning')"
    code = f"import sys, xgen_cli.metrics; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
