"""A fictional encyclopedia the course generates: facts no model has seen, with questions and gold
answers.

To measure hallucination we need questions whose answers are *certainly* not in any training data.
So the course invents a small world: towns with made-up names (built from syllables and checked
against a list of forbidden words such as every word of Tiny Shakespeare), each with five facts:

    kingdom   "Velmora is a town in the kingdom of Drasken."
    river     "It lies on the river Oskel."
    year      "The town was founded in 1423."
    mayor     "Its first mayor was Ilsa Varn."
    product   "Velmora is famous for its copper bells."

Each town becomes one short article (:meth:`Town.document`); each fact becomes questions in a few
phrasings (:func:`questions`). Everything is drawn from ``random.Random(seed)``, so the same seed
gives the same world on every machine."""

from __future__ import annotations

import random
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

# Syllables for invented names: common enough to pronounce, rare enough that the names are new
# words.
_ONSETS = (
    "b",
    "br",
    "d",
    "dr",
    "f",
    "g",
    "gr",
    "k",
    "kr",
    "l",
    "m",
    "n",
    "p",
    "r",
    "s",
    "st",
    "t",
    "th",
    "v",
    "z",
    "sk",
    "j",
    "h",
    "w",
)
_VOWELS = ("a", "e", "i", "o", "u", "ae", "ei", "ou", "y")
_CODAS = ("", "", "n", "r", "l", "s", "m", "th", "k", "x", "nd", "rn")

MATERIALS = ("copper", "glass", "amber", "slate", "wool", "cedar", "silver", "clay")
ITEMS = ("bells", "lanterns", "kites", "clocks", "boats", "masks", "drums", "maps")

ATTRIBUTES = ("kingdom", "river", "year", "mayor", "product")

# Two phrasings of each fact in the articles, and three ways to ask for it.
FACT_TEMPLATES = {
    "kingdom": (
        "{town} is a town in the kingdom of {kingdom}.",
        "{town} is a small town in the kingdom of {kingdom}.",
    ),
    "river": ("It lies on the river {river}.", "The town stands on the river {river}."),
    "year": ("The town was founded in {year}.", "It was founded in the year {year}."),
    "mayor": ("Its first mayor was {mayor}.", "The first mayor of the town was {mayor}."),
    "product": ("{town} is famous for its {product}.", "The town is famous for its {product}."),
}
QUESTION_TEMPLATES = {
    "kingdom": (
        "In which kingdom is {town}?",
        "Which kingdom is {town} in?",
        "What kingdom is {town} part of?",
    ),
    "river": (
        "Which river is {town} on?",
        "On what river does {town} lie?",
        "What river flows through {town}?",
    ),
    "year": (
        "When was {town} founded?",
        "In what year was {town} founded?",
        "What year was {town} founded in?",
    ),
    "mayor": (
        "Who was the first mayor of {town}?",
        "Who was {town}'s first mayor?",
        "Name the first mayor of {town}.",
    ),
    "product": (
        "What is {town} famous for?",
        "What is {town} known for?",
        "For what is {town} famous?",
    ),
}


@dataclass(frozen=True)
class Town:
    """One entry of the encyclopedia."""

    name: str
    kingdom: str
    river: str
    year: str
    mayor: str
    product: str

    def fact(self, attribute: str) -> str:
        if attribute not in ATTRIBUTES:
            raise ValueError(f"unknown attribute {attribute!r}; choose one of {ATTRIBUTES}")
        return getattr(self, attribute)

    def document(self, variant: int = 0) -> str:
        """The town's article: one sentence per fact, in a fixed order. ``variant`` picks the
        phrasings."""
        values = {"town": self.name, **{a: self.fact(a) for a in ATTRIBUTES}}
        sentences = [
            FACT_TEMPLATES[a][(variant + i) % 2].format(**values) for i, a in enumerate(ATTRIBUTES)
        ]
        return " ".join(sentences)

    def with_fact(self, attribute: str, value: str) -> Town:
        """A copy of the town with one fact changed (for counterfactual, deliberately wrong
        contexts)."""
        self.fact(attribute)  # validates the name
        return Town(**{**self.__dict__, attribute: value})


@dataclass(frozen=True)
class Question:
    """A question about one fact of one town, with its gold answer."""

    town: str
    attribute: str
    text: str
    answer: str


def _syllable(rng: random.Random) -> str:
    return rng.choice(_ONSETS) + rng.choice(_VOWELS) + rng.choice(_CODAS)


def invent_name(rng: random.Random, syllables: tuple[int, int] = (2, 3)) -> str:
    """A pronounceable invented word such as ``Velmora``, capitalised."""
    word = "".join(_syllable(rng) for _ in range(rng.randint(*syllables)))
    return word[0].upper() + word[1:]


def words_of(text: str) -> set[str]:
    """Lower-case alphabetic words of a text (to build a forbidden-word list)."""
    return set(re.findall(r"[a-z]+", text.lower()))


class _NameSource:
    """Hands out invented names that are new: never forbidden, never handed out before."""

    def __init__(self, rng: random.Random, forbidden: set[str]):
        self.rng, self.forbidden, self.used = rng, forbidden, set()

    def __call__(self, syllables: tuple[int, int] = (2, 3), max_len: int = 9) -> str:
        for _ in range(10_000):
            name = invent_name(self.rng, syllables)
            key = name.lower()
            if len(name) <= max_len and key not in self.forbidden and key not in self.used:
                self.used.add(key)
                return name
        raise RuntimeError(
            "could not invent a new name; pass fewer forbidden words or ask for fewer towns"
        )


def build_towns(
    n_towns: int, *, seed: int = 0, n_kingdoms: int = 8, forbidden_words: Iterable[str] = ()
) -> list[Town]:
    """``n_towns`` invented towns, the same for the same seed (and the same forbidden words).

    Names of towns, rivers, kingdoms and people are all distinct and never in ``forbidden_words``
    (pass e.g. ``words_of(shakespeare)`` to guarantee the facts cannot be in the pretraining text).
    """
    if n_towns < 1:
        raise ValueError(f"n_towns must be at least 1, got {n_towns}")
    rng = random.Random(seed)
    new_name = _NameSource(rng, {w.lower() for w in forbidden_words} | set(MATERIALS) | set(ITEMS))
    kingdoms = [new_name() for _ in range(n_kingdoms)]
    towns = []
    for _ in range(n_towns):
        towns.append(
            Town(
                name=new_name(),
                kingdom=rng.choice(kingdoms),
                river=new_name((2, 2)),
                year=str(rng.randint(1100, 1899)),
                mayor=f"{new_name((1, 2), 6)} {new_name((1, 2), 6)}",
                product=f"{rng.choice(MATERIALS)} {rng.choice(ITEMS)}",
            )
        )
    return towns


def names(towns: Sequence[Town]) -> set[str]:
    """Every invented name of the towns (town, river, kingdom, each word of the mayor), lower
    case."""
    return {n.lower() for t in towns for n in (t.name, t.river, t.kingdom, *t.mayor.split())}


def practice_towns(
    n_towns: int,
    kb: KnowledgeBase,
    *,
    seed: int = 1,
    n_kingdoms: int = 8,
    forbidden_words: Iterable[str] = (),
) -> list[Town]:
    """Towns for practising reading comprehension, sharing no name with any town of ``kb``.

    Why: a model fine-tuned on a few dozen towns memorises their answers instead of learning to copy
    them from the passage. Thousands of fresh towns, each seen only a few times, leave copying as
    the only way to lower the loss; and since none of their names belongs to ``kb``, no held-out
    fact leaks."""
    return build_towns(
        n_towns,
        seed=seed,
        n_kingdoms=n_kingdoms,
        forbidden_words={w.lower() for w in forbidden_words} | names(kb.towns),
    )


def questions(
    towns: Sequence[Town],
    *,
    attributes: Sequence[str] = ATTRIBUTES,
    phrasings: Sequence[int] = (0, 1, 2),
) -> list[Question]:
    """Every (town, attribute, phrasing) question with its gold answer, in a fixed order."""
    out = []
    for town in towns:
        for attribute in attributes:
            for p in phrasings:
                text = QUESTION_TEMPLATES[attribute][p].format(town=town.name)
                out.append(Question(town.name, attribute, text, town.fact(attribute)))
    return out


@dataclass(frozen=True)
class Document:
    """An article of the knowledge base: its title (the town) and its text."""

    title: str
    text: str


def documents(towns: Sequence[Town], seed: int = 0) -> list[Document]:
    """One article per town; the phrasing of each article is drawn with ``seed``."""
    rng = random.Random(seed)
    return [Document(t.name, t.document(rng.randint(0, 1))) for t in towns]


@dataclass(frozen=True)
class KnowledgeBase:
    """The whole invented world, split by town.

    * ``famous``: towns whose facts the model memorises in fine-tuning (closed book) — the "memory"
      that a deliberately wrong context can contradict;
    * ``train``: towns used to teach reading comprehension (question + passage -> answer);
    * ``held_out``: towns the model never sees in training; every evaluation question is about them.

    ``documents`` holds the articles of ALL towns: the retriever has to find the right one among
    them."""

    famous: list[Town]
    train: list[Town]
    held_out: list[Town]
    documents: list[Document]

    @property
    def towns(self) -> list[Town]:
        return self.famous + self.train + self.held_out

    def town(self, name: str) -> Town:
        for t in self.towns:
            if t.name.lower() == name.lower():
                return t
        raise KeyError(f"no town called {name!r} in the knowledge base")


def build_knowledge_base(
    n_famous: int = 10,
    n_train: int = 80,
    n_held_out: int = 40,
    *,
    seed: int = 0,
    forbidden_words: Iterable[str] = (),
) -> KnowledgeBase:
    """The course's fictional encyclopedia, deterministic for a seed.

    >>> kb = build_knowledge_base(seed=0)
    >>> kb.documents[0].text  # 'Velmora is a town in the kingdom of ...' (names depend on the seed)
    """
    for name, n in (("n_famous", n_famous), ("n_train", n_train), ("n_held_out", n_held_out)):
        if n < 1:
            raise ValueError(f"{name} must be at least 1, got {n}")
    towns = build_towns(n_famous + n_train + n_held_out, seed=seed, forbidden_words=forbidden_words)
    famous, train, held_out = (
        towns[:n_famous],
        towns[n_famous : n_famous + n_train],
        towns[n_famous + n_train :],
    )
    return KnowledgeBase(famous, train, held_out, documents(towns, seed))
