"""The one record every corpus yields, whatever its source (generator, JSONL, HF dataset), and the
check that turns one raw row into it (shared by every reader, so every source rejects the same flaws)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

# The 18 WikiLingua languages of paper.md, in the paper's order.
WIKILINGUA_LANGS = ("en", "es", "pt", "fr", "de", "ru", "it", "id", "nl", "ar", "zh", "vi", "th", "ja", "ko", "hi", "cs", "tr")
FIELDS = ("id", "article", "summary")


@dataclass(frozen=True)
class Example:
    id: str  # the same id across languages marks parallel articles (translations of each other)
    lang: str
    article: str
    summary: str  # summary sentences (WikiLingua: step headings), one per line

    def to_json(self) -> dict:
        return asdict(self)


class BadRow(ValueError):
    """One row (a JSONL line, a dataset row) that cannot be used: what is wrong and how to mend it.

    Readers collect these per file and either raise one XgenError naming file:line or, with
    data.on_bad_line=skip, leave the rows out and count them; a BadRow never reaches the user raw.
    """

    def __init__(self, problem: str, fix: str):
        super().__init__(problem)
        self.problem, self.fix = problem, fix


def json_kind(value: object) -> str:
    """The JSON name of a parsed value, for messages ("id is a list, not a string")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def example_from_row(row: object, lang: str) -> Example:
    """A checked Example from a parsed {"id", "article", "summary"} row of the `lang` corpus, or BadRow.

    Integer ids are read as their decimal text (many exporters write them so); every other field must
    be a string, and none may be empty or whitespace only: an empty summary scores as a perfect miss
    and an empty article trains the model to invent, so both are data errors, not examples.
    """
    if not isinstance(row, dict):
        raise BadRow(f"is {json_kind(row)}, not a JSON object",
                     'write one {"id": ..., "article": ..., "summary": ...} object per line')
    missing = [k for k in FIELDS if k not in row]
    if missing:
        raise BadRow(f"lacks {_and(missing)}", "every line needs id, article and summary")
    values = dict(row)
    if isinstance(values["id"], int) and not isinstance(values["id"], bool):
        values["id"] = str(values["id"])
    for key in FIELDS:
        if not isinstance(values[key], str):
            raise BadRow(f"{key} is {json_kind(values[key])}, not a string", f"make {key} a JSON string")
    blank = [k for k in FIELDS if not values[k].strip()]
    if blank:
        raise BadRow(f"{_and(blank)} {'is' if len(blank) == 1 else 'are'} empty or only whitespace",
                     "fill it in or delete the line")
    row_lang = values.get("lang", lang)
    if row_lang != lang:
        raise BadRow(f"says lang {row_lang!r} but sits in the {lang!r} corpus",
                     f"move it to the {row_lang!r} folder, or fix or drop its lang field")
    for key in FIELDS:
        try:
            values[key].encode("utf-8")
        except UnicodeEncodeError:
            # JSON can escape half a surrogate pair ("\ud83d"); Python reads it, then every writer fails.
            raise BadRow(f"{key} holds an unpaired surrogate escape (\\ud800-\\udfff)", "fix or delete that line") from None
    return Example(id=values["id"], lang=lang, article=values["article"], summary=values["summary"])


def text_from_row(row: object) -> str:
    """The text of a checked {"text"} row of unlabeled.jsonl, or BadRow."""
    if not isinstance(row, dict):
        raise BadRow(f"is {json_kind(row)}, not a JSON object", 'write one {"text": ...} object per line')
    if "text" not in row:
        raise BadRow("lacks text", 'every line of unlabeled.jsonl needs {"text": ...}')
    text = row["text"]
    if not isinstance(text, str):
        raise BadRow(f"text is {json_kind(text)}, not a string", "make text a JSON string")
    if not text.strip():
        raise BadRow("text is empty or only whitespace", "fill it in or delete the line")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRow("text holds an unpaired surrogate escape (\\ud800-\\udfff)", "fix or delete that line") from None
    return text
