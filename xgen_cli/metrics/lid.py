"""LID_lang: how confidently cld3 says the predictions are in language `lang` (paper.md, "Metrics").

cld3 codes for the 18 paper languages (en es pt fr de ru it id nl ar zh vi th ja ko hi cs tr) are
the plain ISO 639-1 codes xgen uses, so no mapping is needed. Checked with cld3-py 3.1.0: simplified
and traditional Chinese both come out as "zh". cld3 also has romanized labels ("zh-Latn" for
pinyin, "ja-Latn", "hi-Latn", "ru-Latn"); these do NOT count as the target language, on purpose:
a romanized summary is not one in the target script, which is what LID_XX is meant to catch.
"""

import functools

import gcld3


@functools.cache
def _identifier() -> gcld3.NNetLanguageIdentifier:
    # One model for the process: building it costs more than identifying a sentence.
    # max_num_bytes=1000 is cld3's usual cap; summaries are shorter.
    return gcld3.NNetLanguageIdentifier(min_num_bytes=0, max_num_bytes=1000)


def lid_probability(prediction: str, lang: str) -> float:
    """cld3's probability if its top language is `lang`, else 0 (paper.md's xgen decision), in [0, 1].

    Empty or whitespace-only text is 0: cld3 still answers for it (Japanese, p=0.78, in a check).
    """
    if not prediction.strip():
        return 0.0
    result = _identifier().FindLanguage(text=prediction)
    return result.probability if result.language == lang else 0.0


def lid_score(predictions: list[str], lang: str) -> float:
    """Mean of `lid_probability` over the predictions, x100; 0.0 for none."""
    if not predictions:
        return 0.0
    return 100.0 * sum(lid_probability(p, lang) for p in predictions) / len(predictions)
