"""The one record every corpus yields, whatever its source (generator, JSONL, HF dataset)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

# The 18 WikiLingua languages of paper.md, in the paper's order.
WIKILINGUA_LANGS = ("en", "es", "pt", "fr", "de", "ru", "it", "id", "nl", "ar", "zh", "vi", "th", "ja", "ko", "hi", "cs", "tr")


@dataclass(frozen=True)
class Example:
    id: str  # the same id across languages marks parallel articles (translations of each other)
    lang: str
    article: str
    summary: str  # summary sentences (WikiLingua: step headings), one per line

    def to_json(self) -> dict:
        return asdict(self)
