"""LID_lang: cld3's probability when its top language is `lang`, else 0 (paper.md, "Metrics")."""

import gcld3
import pytest

from xgen_cli.metrics.lid import lid_probability, lid_score

KNOWN = {
    "en": "Cut the paper along the dotted line and fold it in half before you glue the edges.",
    "fr": "Coupez le papier le long de la ligne pointillée et pliez-le en deux avant de coller les bords.",
    "ru": "Разрежьте бумагу по пунктирной линии и сложите её пополам, прежде чем склеить края.",
    "vi": "Cắt giấy dọc theo đường chấm và gấp đôi lại trước khi dán các mép.",
    "th": "ตัดกระดาษตามเส้นประแล้วพับครึ่งก่อนที่จะติดกาวที่ขอบกระดาษ",
    "zh": "沿着虚线剪开纸张，然后在粘贴边缘之前把它对折。",
}


@pytest.fixture(scope="module")
def cld3():
    return gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)


@pytest.mark.parametrize("lang", sorted(KNOWN))
def test_known_sentence_scores_high_for_its_language(lang):
    assert lid_score([KNOWN[lang]], lang) > 90.0
    other = "ru" if lang == "en" else "en"
    assert lid_score([KNOWN[lang]], other) == 0.0


@pytest.mark.parametrize("text", [*KNOWN.values(), "dict dict dict", "Wǒ xǐhuān chī píngguǒ."])
def test_matches_cld3_sentence_by_sentence(cld3, text):
    result = cld3.FindLanguage(text=text)
    assert lid_probability(text, result.language) == result.probability
    assert lid_probability(text, "xx") == 0.0


def test_chinese_is_zh_in_both_scripts():
    assert lid_score(["这是一个关于天气的简单句子。"], "zh") > 90.0
    assert lid_score(["這是一個關於天氣的簡單句子。"], "zh") > 90.0


def test_romanized_label_does_not_count_as_the_language(cld3):
    text = "Watashi wa nihongo o benkyō shite imasu. Kyō wa ii tenki desu ne."
    assert cld3.FindLanguage(text=text).language == "ja-Latn"
    assert lid_score([text], "ja") == 0.0


def test_empty_predictions_count_as_zero():
    # cld3 alone would call "" Japanese with p ~ 0.78.
    assert lid_score(["", "   ", "\n"], "ja") == 0.0
    assert lid_score([], "en") == 0.0


def test_mean_over_predictions(cld3):
    predictions = [KNOWN["fr"], KNOWN["en"], ""]
    expected = 100 * cld3.FindLanguage(text=KNOWN["fr"]).probability / 3
    assert lid_score(predictions, "fr") == pytest.approx(expected, abs=1e-9)
