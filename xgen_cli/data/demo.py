"""`data=demo`: the embedded default corpus, a seeded generator of parallel how-to articles.

Written for xgen, no external data. It mimics WikiLingua's shape (paper.md: the summary of a how-to
article is the list of its step headings) at a size a few-million-parameter mT5 can learn on a CPU
in minutes: 5 topics x 8 actions x 8 objects, 3 body paraphrases per action (`demo_lexicon.py`).

An article is 3-6 steps of one topic. A step is a heading ("Clean the window.") and 1-3 body
sentences that say the same in other words ("Wipe your window with a damp cloth."), optionally
opened by a sequence word ("Then, ") and closed by a generic filler ("Take your time."). The
article is the step bodies as one paragraph (sentences joined by a space, no headings); the
summary is the headings, one per line. Every language but Thai ends a heading with a period; Thai
writes no sentence-final punctuation and separates sentences with a space.

Parallel: a language-neutral plan is sampled once per (split, index) and realised in every
language, so `demo-train-000042` names translations of one article across languages.
"""

from __future__ import annotations

import json
import os
import random
import tempfile
from pathlib import Path

from xgen_cli.data.demo_lexicon import ACTIONS, FILLERS, OBJECTS, PREFIXES, TOPICS
from xgen_cli.data.example import Example
from xgen_cli.errors import XgenError

DEMO_LANGS: tuple[str, ...] = ("en", "es", "fr", "de", "ru", "vi", "th")
SPLITS = ("train", "validation", "test")
UNLABELED_STREAM = "unlabeled"

MIN_STEPS, MAX_STEPS = 3, 6
P_MAIN_OBJECT = 0.7  # a step is about the article's main object, else another object of the topic
SENTENCES_PER_STEP = (1, 2, 2, 3)  # paraphrases per step, drawn uniformly from this tuple
P_FILLER = 0.35  # a step with fewer than 3 paraphrases ends with a generic sentence
P_PREFIX = 0.5  # a step opens with a sequence word

ACTIONS_BY_TOPIC = {t: [a for a in ACTIONS if a["topic"] == t] for t in TOPICS}


def _check_lang(lang: str) -> None:
    if lang not in DEMO_LANGS:
        raise XgenError(f"the demo corpus has no language {lang!r}; available: {', '.join(DEMO_LANGS)}")


# ---- object forms: the placeholders of demo_lexicon.py, derived from each object's row ----

def _fr_forms(o: str) -> dict:
    art, noun = ("l'", o[2:]) if o.startswith("l'") else o.split(" ", 1)
    art = art.strip()
    d = {"le": "du " + noun, "la": "de la " + noun, "l'": "de l'" + noun}[art]
    a = {"le": "au " + noun, "la": "à la " + noun, "l'": "à l'" + noun}[art]
    return {"o": o, "p": "votre " + noun, "d": d, "a": a}


def _es_forms(o: str) -> dict:
    art, noun = o.split(" ", 1)
    d = {"el": "del " + noun, "la": "de la " + noun}[art]
    a = {"el": "al " + noun, "la": "a la " + noun}[art]
    return {"o": o, "p": "tu " + noun, "d": d, "a": a}


def _de_forms(acc: str, gen: str) -> dict:
    art, noun = acc.split(" ", 1)
    nom, dat, poss = {"den": ("der", "dem", "Ihren"), "das": ("das", "dem", "Ihr"), "die": ("die", "der", "Ihre")}[art]
    masc_neut = dat == "dem"
    return {
        "o": acc, "p": f"{poss} {noun}", "n": f"{nom} {noun}", "d": f"{dat} {noun}", "g": gen,
        "v": f"vom {noun}" if masc_neut else f"von der {noun}",
        "an": f"am {noun}" if masc_neut else f"an der {noun}",
        "zu": f"zum {noun}" if masc_neut else f"zur {noun}",
    }


def _ru_forms(acc: str, gen: str, dat: str, loc: str | None) -> dict:
    # "со" before a consonant cluster starting with с/з/ш/ж/щ ("со стола", "со скутера").
    vowels = "аеёиоуыэюя"
    s = "со" if gen[0] in "сзшжщ" and gen[1] not in vowels else "с"
    forms = {"a": acc, "g": gen, "d": dat, "s": f"{s} {gen}"}
    if loc is not None:
        forms["n"] = loc
    return forms


def object_forms(topic: str, index: int, lang: str) -> dict:
    """The placeholder values for object `index` of `topic` in `lang`."""
    _key, en, fr, es, de, ru, vi, th = OBJECTS[topic][index]
    if lang == "en":
        return {"o": en, "p": "your " + en.removeprefix("the ")}
    if lang == "fr":
        return _fr_forms(fr)
    if lang == "es":
        return _es_forms(es)
    if lang == "de":
        return _de_forms(*de)
    if lang == "ru":
        return _ru_forms(*ru)
    return {"o": vi if lang == "vi" else th}


# ---- plans: language-neutral samples ----

def _sample_plan(rng: random.Random) -> dict:
    topic = rng.choice(TOPICS)
    n_steps = rng.randint(MIN_STEPS, MAX_STEPS)
    actions = rng.sample(range(len(ACTIONS_BY_TOPIC[topic])), n_steps)
    main = rng.randrange(len(OBJECTS[topic]))
    steps = []
    for pos, action in enumerate(actions):
        obj = main if rng.random() < P_MAIN_OBJECT else rng.randrange(len(OBJECTS[topic]))
        k = rng.choice(SENTENCES_PER_STEP)
        paraphrases = rng.sample(range(3), k)
        filler = rng.randrange(len(FILLERS["en"])) if k < 3 and rng.random() < P_FILLER else None
        prefix = None
        if rng.random() < P_PREFIX:
            # (slot, index): slot 0 first step, 1 a middle step, 2 the last step
            slot = 0 if pos == 0 else 2 if pos == n_steps - 1 else 1
            prefix = (slot, rng.randrange(len(PREFIXES["en"][1])) if slot == 1 else 0)
        steps.append({"action": action, "object": obj, "paraphrases": paraphrases, "filler": filler, "prefix": prefix})
    return {"topic": topic, "steps": steps}


def _sentence_end(lang: str) -> str:
    return "" if lang == "th" else "."


def realize_steps(plan: dict, lang: str) -> list[tuple[str, str]]:
    """(heading, paragraph) of each step of `plan` in `lang`."""
    topic = plan["topic"]
    steps = []
    for step in plan["steps"]:
        templates = ACTIONS_BY_TOPIC[topic][step["action"]][lang]
        forms = object_forms(topic, step["object"], lang)
        body = [templates[1 + i].format(**forms) for i in step["paraphrases"]]
        if step["prefix"] is not None:
            slot, i = step["prefix"]
            first, middle, last = PREFIXES[lang]
            word = (first, middle[i], last)[slot]
            body[0] = word + body[0][0].lower() + body[0][1:]
        if step["filler"] is not None:
            body.append(FILLERS[lang][step["filler"]])
        steps.append((templates[0].format(**forms), " ".join(body)))
    return steps


def realize(plan: dict, lang: str) -> tuple[str, str]:
    """(article, summary) of `plan` in `lang`: the paragraphs, and the headings one per line."""
    steps = realize_steps(plan, lang)
    return " ".join(body for _, body in steps), "\n".join(heading for heading, _ in steps)


def _heading_in_body(article: str, summary: str) -> bool:
    text = article.lower()
    return any(h.lower().rstrip(".") in text for h in summary.split("\n"))


def _plans(stream: str, n: int, seed: int, langs=DEMO_LANGS) -> list[dict[str, tuple[str, str]]]:
    """n realised plans of stream `stream`: [{lang: (article, summary)}].

    A plan whose realisation quotes a heading verbatim in any demo language is redrawn; the check
    runs on all languages whatever `langs` asks for, so every language sees the same plans.
    """
    rng = random.Random(f"{seed}-{stream}")
    out = []
    while len(out) < n:
        plan = _sample_plan(rng)
        realised = {lang: realize(plan, lang) for lang in DEMO_LANGS}
        if any(_heading_in_body(*pair) for pair in realised.values()):
            continue
        out.append({lang: realised[lang] for lang in langs})
    return out


def _examples(realised: list[dict], lang: str, split: str) -> list[Example]:
    return [Example(id=f"demo-{split}-{i:06d}", lang=lang, article=r[lang][0], summary=r[lang][1])
            for i, r in enumerate(realised)]


def _unlabeled_texts(realised: list[dict], lang: str) -> list[str]:
    # One document: the article paragraph, then its headings on their own lines (as a how-to page
    # would show them), so unsupervised tasks see both registers of the target language.
    return [f"{r[lang][0]}\n{r[lang][1]}" for r in realised]


def generate_split(lang: str, split: str, n: int, seed: int = 0) -> list[Example]:
    """The first `n` examples of `split` in `lang`; ids `demo-{split}-{i:06d}` are parallel across languages."""
    _check_lang(lang)
    if split not in SPLITS:
        raise XgenError(f"the demo corpus has no split {split!r}; available: {', '.join(SPLITS)}")
    return _examples(_plans(split, n, seed, (lang,)), lang, split)


def generate_unlabeled(lang: str, n: int, seed: int = 0) -> list[str]:
    """`n` unlabeled documents in `lang`, from their own stream (disjoint plans from the labelled splits)."""
    _check_lang(lang)
    return _unlabeled_texts(_plans(UNLABELED_STREAM, n, seed, (lang,)), lang)


def generate_headlines(split: str, n: int, seed: int = 0) -> list[Example]:
    """`n` English (paragraph -> its heading) pairs from their own stream: the demo's stand-in for
    gigaword's headline generation (IT-GIGAWORD), an English task near summarization but not it."""
    if split not in SPLITS:
        raise XgenError(f"the demo headlines have no split {split!r}; available: {', '.join(SPLITS)}")
    rng = random.Random(f"{seed}-headlines-{split}")
    pairs: list[Example] = []
    while len(pairs) < n:
        for heading, body in realize_steps(_sample_plan(rng), "en"):
            if heading.lower().rstrip(".") not in body.lower():  # as the corpus: no verbatim heading
                pairs.append(Example(id=f"demo-headline-{split}-{len(pairs):06d}", lang="en", article=body,
                                     summary=heading))
    return pairs[:n]


def _write_jsonl(path: Path, rows) -> int:
    # Atomic: a reader never sees a half-written file, and a crash leaves the old file in place.
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            for row in rows:
                f.write(json.dumps(row, ensure_ascii=False) + "\n")
                count += 1
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count


def write_demo_corpus(out_dir, langs=DEMO_LANGS, n_train: int = 2000, n_validation: int = 250, n_test: int = 250,
                      n_unlabeled: int = 2000, seed: int = 0) -> dict[str, dict[str, int]]:
    """Write `<out_dir>/<lang>/{train,validation,test,unlabeled}.jsonl`; return {lang: {file stem: lines}}.

    Every language gets a train split: SUP / SUP-ALL baselines (paper.md) train on it.
    """
    langs = tuple(langs)
    for lang in langs:
        _check_lang(lang)
    sizes = {"train": n_train, "validation": n_validation, "test": n_test}
    realised = {split: _plans(split, n, seed, langs) for split, n in sizes.items()}
    unlabeled = _plans(UNLABELED_STREAM, n_unlabeled, seed, langs)
    counts: dict[str, dict[str, int]] = {}
    for lang in langs:
        folder = Path(out_dir) / lang
        folder.mkdir(parents=True, exist_ok=True)
        counts[lang] = {
            split: _write_jsonl(folder / f"{split}.jsonl", (e.to_json() for e in _examples(realised[split], lang, split)))
            for split in SPLITS
        }
        counts[lang]["unlabeled"] = _write_jsonl(folder / "unlabeled.jsonl",
                                                 ({"text": t} for t in _unlabeled_texts(unlabeled, lang)))
    return counts
