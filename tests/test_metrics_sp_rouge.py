"""SP-ROUGE must equal rouge-score's rougeLsum on the same pieces (paper.md, "Metrics")."""

import random

import pytest
import sentencepiece
from hypothesis import given, settings
from hypothesis import strategies as st
from rouge_score.rouge_scorer import RougeScorer

from xgen_cli.metrics.sp_rouge import SpRouge

SENTENCES = [
    "Cut the paper along the dotted line.",
    "Fold the paper in half and press firmly.",
    "Preheat the oven before you bake the bread.",
    "Coupez le papier le long de la ligne pointillée.",
    "Pliez la feuille en deux et appuyez fermement.",
    "Préchauffez le four avant de cuire le pain.",
    "Разрежьте бумагу по пунктирной линии.",
    "Сложите лист пополам и крепко прижмите.",
    "Разогрейте духовку перед выпечкой хлеба.",
    "Cắt giấy dọc theo đường chấm.",
    "Gấp tờ giấy làm đôi và ấn chặt.",
    "Làm nóng lò trước khi nướng bánh mì.",
    "ตัดกระดาษตามเส้นประ",
    "พับกระดาษครึ่งหนึ่งแล้วกดให้แน่น",
    "อุ่นเตาอบก่อนอบขนมปัง",
    "沿着虚线剪开纸张。",
    "把纸对折并用力压平。",
    "烤面包之前先预热烤箱。",
]
WORDS = sorted({w for s in SENTENCES for w in s.split()} | {"ครับ", "กระดาษ", "纸", "面包", "!!", "123"})


@pytest.fixture(scope="module")
def spm_model(tmp_path_factory):
    rng = random.Random(0)
    lines = []
    for _ in range(400):
        picked = rng.sample(SENTENCES, 3)
        lines.append(" ".join(picked))
    corpus = tmp_path_factory.mktemp("spm") / "corpus.txt"
    corpus.write_text("\n".join(lines + SENTENCES), encoding="utf-8")
    prefix = corpus.parent / "tiny"
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus),
        model_prefix=str(prefix),
        vocab_size=400,
        byte_fallback=True,
        character_coverage=1.0,
        num_threads=1,
        minloglevel=2,
    )
    return prefix.with_suffix(".model")


@pytest.fixture(scope="module")
def sp_rouge(spm_model):
    return SpRouge(spm_model)


@pytest.fixture(scope="module")
def reference_scorer(spm_model):
    """rouge-score itself, fed the same pieces through its tokenizer hook."""

    class Pieces:
        def __init__(self):
            self.sp = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))

        def tokenize(self, text):
            return self.sp.encode(text, out_type=str)

    return RougeScorer(["rougeLsum"], tokenizer=Pieces())


def reference_f(scorer, prediction, reference):
    # rouge-score's score() takes (target, prediction).
    return scorer.score(reference, prediction)["rougeLsum"].fmeasure * 100


PAIRS = [
    ("Cut the paper along the dotted line.", "Cut the paper along the dotted line."),
    ("Cut the paper.\nFold it in half.", "Fold the paper in half.\nCut along the line."),
    ("Pliez la feuille.\n\nPréchauffez le four.", "Préchauffez le four avant de cuire le pain."),
    ("Сложите лист пополам.", "Разрежьте бумагу по пунктирной линии.\nСложите лист."),
    ("Gấp tờ giấy làm đôi.\nCắt giấy.", "Cắt giấy dọc theo đường chấm.\nGấp tờ giấy."),
    ("ตัดกระดาษ\nพับกระดาษครึ่งหนึ่ง", "ตัดกระดาษตามเส้นประ\nอุ่นเตาอบ"),
    ("沿着虚线剪开。\n烤面包。", "烤面包之前先预热烤箱。\n沿着虚线剪开纸张。"),
    ("the the the the", "the paper the line the oven"),
    ("", "Cut the paper."),
    ("Cut the paper.", ""),
    ("   \n  \n", "Cut the paper."),
    ("\n\nCut\n\n", "Cut\n"),
    ("ẞ ☃ 𝔘 unseen ✓", "unseen ✓ ☃"),
]


@pytest.mark.parametrize(("prediction", "reference"), PAIRS)
def test_score_equals_rouge_score(sp_rouge, reference_scorer, prediction, reference):
    assert sp_rouge.score(prediction, reference) == pytest.approx(
        reference_f(reference_scorer, prediction, reference), abs=1e-9
    )


def test_corpus_score_is_mean_of_rouge_score(sp_rouge, reference_scorer):
    predictions = [p for p, _ in PAIRS]
    references = [r for _, r in PAIRS]
    expected = sum(reference_f(reference_scorer, p, r) for p, r in PAIRS) / len(PAIRS)
    assert sp_rouge.corpus_score(predictions, references) == pytest.approx(expected, abs=1e-9)


def test_identical_texts_score_100(sp_rouge):
    assert sp_rouge.score("Cut the paper.\nFold it.", "Cut the paper.\nFold it.") == pytest.approx(100.0)
    assert sp_rouge.score("ตัดกระดาษ", "ตัดกระดาษ") == pytest.approx(100.0)


def test_disjoint_pieces_score_0(sp_rouge):
    assert not set(sp_rouge.tokenize("沿着虚线")) & set(sp_rouge.tokenize("Cut the paper"))
    assert sp_rouge.score("沿着虚线", "Cut the paper") == 0.0
    assert sp_rouge.score("", "") == 0.0
    assert sp_rouge.corpus_score([], []) == 0.0


def test_partial_overlap_by_hand(sp_rouge):
    # 3 of the reference's 5 pieces, all 3 predicted pieces right: P = 1, R = 3/5, F = 0.75.
    assert sp_rouge.tokenize("沿着") == ["▁", "沿", "着"]
    assert sp_rouge.tokenize("沿着虚线") == ["▁", "沿", "着", "虚", "线"]
    assert sp_rouge.score("沿着", "沿着虚线") == pytest.approx(75.0)


def test_corpus_score_rejects_length_mismatch(sp_rouge):
    with pytest.raises(ValueError, match="2 predictions but 1 references"):
        sp_rouge.corpus_score(["a", "b"], ["a"])


def test_tokenize_gives_pieces(sp_rouge):
    pieces = sp_rouge.tokenize("Cut the paper.")
    assert pieces and all(isinstance(p, str) for p in pieces)
    assert "".join(pieces).replace("▁", " ").strip() == "Cut the paper."


# Random multilingual summaries: words, Thai and CJK runs, newlines, blank lines, lone spaces.
_piece = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(["\n", "\n\n", " ", "  ", "\n \n", ""]),
    st.text(alphabet="abcกขคงจ纸面包яжé!. ", max_size=6),
)
_summary = st.lists(_piece, max_size=25).map(lambda parts: " ".join(parts))


@settings(max_examples=100, deadline=None)
@given(prediction=_summary, reference=_summary)
def test_random_multilingual_pairs_equal_rouge_score(sp_rouge, reference_scorer, prediction, reference):
    assert sp_rouge.score(prediction, reference) == pytest.approx(
        reference_f(reference_scorer, prediction, reference), abs=1e-9
    )
