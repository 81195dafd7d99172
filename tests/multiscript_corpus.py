"""A small seeded corpus in three scripts the demo lacks or has only in part: English (Latin), Ukrainian
(Cyrillic, with і ї є ґ that Russian lacks) and Japanese (kana and kanji, no spaces), laid out as a
user's `data=jsonl` folder. Articles are 3-6 sentences of everyday how-to text; the summary is the
first sentence and the last, one per line."""

from __future__ import annotations

import json
import random
from pathlib import Path

WORDS = {
    "en": {
        "who": ["the cook", "my neighbour", "a teacher", "the child", "our guest", "the driver", "a farmer",
                "the doctor", "my sister", "the student", "an old man", "the baker"],
        "what": ["the bread", "a letter", "fresh fish", "the garden", "a small boat", "the old map", "warm soup",
                 "the red bicycle", "a wooden chair", "the kitchen window", "clean water", "the winter coat"],
        "verb": ["prepares", "carries", "washes", "repairs", "paints", "finds", "cleans", "buys", "sells", "opens",
                 "checks", "brings"],
        "where": ["at the market", "near the river", "in the morning", "after lunch", "behind the house",
                  "on the bridge", "before dinner", "in the village", "at the station", "under the tree"],
        "pattern": "{who} {verb} {what} {where}.",
    },
    "uk": {
        "who": ["кухар", "мій сусід", "вчителька", "дитина", "наш гість", "водій", "фермер", "лікар", "моя сестра",
                "студент", "старий чоловік", "пекар"],
        "what": ["хліб", "лист", "свіжу рибу", "сад", "невеликий човен", "стару карту", "теплий суп",
                 "червоний велосипед", "дерев'яний стілець", "кухонне вікно", "чисту воду", "зимове пальто"],
        "verb": ["готує", "несе", "миє", "ремонтує", "фарбує", "знаходить", "прибирає", "купує", "продає",
                 "відчиняє", "перевіряє", "приносить"],
        "where": ["на ринку", "біля річки", "вранці", "після обіду", "за будинком", "на мосту", "перед вечерею",
                  "у селі", "на вокзалі", "під деревом", "їдучи додому", "з ґанку"],
        "pattern": "{who} {verb} {what} {where}.",
    },
    "ja": {
        "who": ["料理人", "隣の人", "先生", "子供", "お客さん", "運転手", "農家の人", "医者", "私の姉", "学生",
                "おじいさん", "パン屋さん"],
        "what": ["パン", "手紙", "新鮮な魚", "庭", "小さな船", "古い地図", "温かいスープ", "赤い自転車",
                 "木の椅子", "台所の窓", "きれいな水", "冬のコート"],
        "verb": ["作ります", "運びます", "洗います", "直します", "塗ります", "見つけます", "掃除します", "買います",
                 "売ります", "開けます", "確かめます", "持って来ます"],
        "where": ["市場で", "川の近くで", "朝に", "昼ご飯の後で", "家の裏で", "橋の上で", "夕食の前に", "村で",
                  "駅で", "木の下で"],
        "pattern": "{who}は{where}{what}を{verb}。",
    },
}
LANGS = tuple(WORDS)


def sentence(lang: str, rng: random.Random) -> str:
    words = WORDS[lang]
    text = words["pattern"].format(**{slot: rng.choice(words[slot]) for slot in ("who", "what", "verb", "where")})
    return text[0].upper() + text[1:]


def article(lang: str, rng: random.Random) -> tuple[str, str]:
    sentences = [sentence(lang, rng) for _ in range(rng.randint(3, 6))]
    joiner = "" if lang == "ja" else " "
    return joiner.join(sentences), f"{sentences[0]}\n{sentences[-1]}"


def write_corpus(root: Path, n_train: int = 40, n_validation: int = 12, n_unlabeled: int = 300, seed: int = 0,
                 train_langs: tuple[str, ...] = ("en",)) -> Path:
    """`<root>/<lang>/{train,validation,unlabeled}.jsonl`; train.jsonl only for `train_langs` (zero-shot)."""
    for lang in LANGS:
        rng = random.Random(f"{seed}-{lang}")
        folder = root / lang
        folder.mkdir(parents=True, exist_ok=True)
        splits = {"validation": n_validation, **({"train": n_train} if lang in train_langs else {})}
        for split, n in splits.items():
            with (folder / f"{split}.jsonl").open("w", encoding="utf-8") as f:
                for i in range(n):
                    text, summary = article(lang, rng)
                    f.write(json.dumps({"id": f"{lang}-{split}-{i}", "article": text, "summary": summary},
                                       ensure_ascii=False) + "\n")
        with (folder / "unlabeled.jsonl").open("w", encoding="utf-8") as f:
            for _ in range(n_unlabeled):
                f.write(json.dumps({"text": article(lang, rng)[0]}, ensure_ascii=False) + "\n")
    return root


if __name__ == "__main__":  # python tests/multiscript_corpus.py <folder> [n_train n_validation n_unlabeled]
    import sys

    sizes = [int(n) for n in sys.argv[2:5]]
    print(write_corpus(Path(sys.argv[1]), *sizes))
