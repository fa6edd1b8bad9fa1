"""The data of Part IV, built by the course: a pretraining mix, an instruction set, a simulated
annotator.

A model with half a million parameters cannot learn to follow arbitrary English instructions, so we
design tasks it *can* learn and keep everything measurable:

* **Skills** (:data:`SKILLS`): four string transformations of a four-letter word (reverse it, write
  it in capitals, shift every letter one step along the alphabet, or thirteen steps: rot13). Each
  has one right answer, so accuracy is exact.
* **Pretraining mix** (:func:`pretraining_mix`): ordinary text (Tiny Shakespeare) interleaved with
  *task documents*, each a run of lines ``word = answer`` that all use the SAME skill. Nothing says
  which skill a document uses; the model can only tell from the lines above. That is exactly the
  situation in which in-context learning pays off (Xie et al. 2021: pretraining documents share a
  latent concept, and a prompt of examples lets the model infer it): with no example the model can
  only guess the skill, with a few it can read it off.
* **Instructions** (:func:`instruction_examples`): the same skills asked for in words
  (``User: Write cat backwards.`` / ``Bot: tac``) plus an open-ended request (``Write a line about
  love.``), each phrased through one of several *frames*. Some frames are held out of training, so
  instruction-following is measured on phrasings the model never saw.
* **The annotator** (:func:`annotator_score`, :func:`annotate_pairs`): a transparent stand-in for
  the people who rank answers in InstructGPT. It likes replies that are kind (VADER sentiment, a
  lexicon whose word ratings came from human raters) and on topic, and it makes mistakes (label
  noise). It is a rule, not a person, and the notebooks say so.
"""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from course.special_tokens import CHAT_EOS, CHAT_PAD, CHAT_VOCAB
from course.text.char import CharTokenizer

# ----------------------------------------------------------------------------- vocabulary
# The fixed character set of Part IV and its special tokens (course/special_tokens.py), under the
# names notebooks 09 and 10 use: tasks.VOCAB, tasks.EOS, tasks.PAD.
VOCAB, EOS, PAD = CHAT_VOCAB, CHAT_EOS, CHAT_PAD


def tokenizer() -> CharTokenizer:
    """The 96-character tokenizer of notebooks 09 and 10."""
    return CharTokenizer(VOCAB)


def left_pad(token_lists: Sequence[Sequence[int]], pad_id: int) -> torch.Tensor:
    """Token lists padded on the left with ``pad_id`` to the longest one: a LongTensor (B, T).

    Part IV pads on the left so that every sequence ends at the last position: our GPT has no
    padding mask, and the next token is always read from the same place."""
    longest = max(len(t) for t in token_lists)
    return torch.tensor(
        [[pad_id] * (longest - len(t)) + list(t) for t in token_lists], dtype=torch.long
    )


def clean_text(text: str) -> str:
    """Map characters outside :data:`VOCAB` to spaces (tabs, curly quotes, accents in fallback
    corpora)."""
    allowed = set(VOCAB)
    return "".join(c if c in allowed else " " for c in text)


# ----------------------------------------------------------------------------- skills
def _rotate(word: str, k: int) -> str:
    """Move each lower-case letter ``k`` places along the alphabet, wrapping z -> a."""
    return "".join(chr((ord(c) - 97 + k) % 26 + 97) if "a" <= c <= "z" else c for c in word)


# Each skill maps the i-th letter of the word to the i-th letter of the answer (reverse: to the
# mirrored one), and words have a fixed length, so a small model can learn every skill from
# position alone; what it cannot know without examples is WHICH skill a document uses.
SKILLS: dict[str, Callable[[str], str]] = {
    "reverse": lambda w: w[::-1],  # cat -> tac
    "upper": str.upper,  # cat -> CAT
    "shift": lambda w: _rotate(w, 1),  # cat -> dbu  (each letter one step along the alphabet)
    # cat -> png  (each letter 13 steps along: the classic Usenet code)
    "rot13": lambda w: _rotate(w, 13),
}


def words_from(text: str, min_len: int = 3, max_len: int = 5) -> list[str]:
    """Distinct lower-case alphabetic words of the text, sorted (so the list is reproducible)."""
    found = set(re.findall(r"\b[a-z]+\b", text))
    return sorted(w for w in found if min_len <= len(w) <= max_len)


def split_held_out(
    items: Sequence[str], fraction: float = 0.2, seed: int = 0
) -> tuple[list[str], list[str]]:
    """Shuffle deterministically and split into (train, held_out)."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must lie in (0, 1), got {fraction}")
    items = list(items)
    random.Random(seed).shuffle(items)
    cut = max(1, int(len(items) * fraction))
    return items[cut:], items[:cut]


def demo_line(skill: str, word: str) -> str:
    """One example of a skill as it appears in pretraining and in few-shot prompts: ``cat =
    tac``."""
    return f"{word} = {SKILLS[skill](word)}\n"


def task_document(skill: str, words: Sequence[str], rng: random.Random, n_lines: int = 6) -> str:
    """A run of examples of ONE skill (which skill is never named: the model must infer it)."""
    return "".join(demo_line(skill, rng.choice(words)) for _ in range(n_lines))


def few_shot_prompt(skill: str, shots: Sequence[str], query: str) -> str:
    """A blank line (a new document starts), ``len(shots)`` worked examples, then the query word."""
    return "\n" + "".join(demo_line(skill, w) for w in shots) + f"{query} ="


def pretraining_mix(
    text: str,
    words: Sequence[str],
    *,
    task_fraction: float = 0.5,
    seed: int = 0,
    doc_lines: tuple[int, int] = (2, 8),
) -> str:
    """Interleave chunks of ``text`` with task documents until tasks make up ``task_fraction`` of
    the characters.

    Documents are separated by a blank line. Each task document uses one randomly chosen skill
    on words from ``words`` (pass only the *training* words, so test words stay unseen).
    """
    if not words:
        raise ValueError("pretraining_mix needs a non-empty list of words for the task documents")
    rng = random.Random(seed)
    text = clean_text(text)
    paragraphs = [p.strip("\n") for p in text.split("\n\n") if p.strip()]
    prose_chars = sum(len(p) + 2 for p in paragraphs)
    target_task_chars = prose_chars * task_fraction / (1 - task_fraction)
    pieces, task_chars = [], 0
    for seen, paragraph in enumerate(paragraphs, start=1):
        pieces.append(paragraph)
        # after each paragraph, add task documents while we are behind the wanted proportion
        while task_chars < target_task_chars * seen / len(paragraphs):
            skill = rng.choice(list(SKILLS))
            doc = task_document(skill, words, rng, rng.randint(*doc_lines)).rstrip("\n")
            pieces.append(doc)
            task_chars += len(doc) + 2
    return "\n\n".join(pieces) + "\n"


# ------------------------------------------------------------------------------------ instructions
# How each skill is asked for in words. A frame wraps the request; held-out frames never appear in
# the supervised fine-tuning data, so following them shows generalisation beyond memorised
# phrasings.
REQUESTS: dict[str, Sequence[str]] = {
    "reverse": ("write {w} backwards", "reverse {w}", "spell {w} back to front"),
    "upper": ("write {w} in capitals", "uppercase {w}", "shout {w}"),
    "shift": (
        "shift each letter of {w}",
        "move every letter of {w} up one",
        "encode {w} with the shift code",
    ),
    "rot13": (
        "encode {w} with rot13",
        "apply rot13 to {w}",
        "rotate every letter of {w} by thirteen",
    ),
    "line": ("write a line about {w}", "give me a line about {w}", "say something about {w}"),
}
TRAIN_FRAMES = ("{R}.", "Please {r}.", "{R}, please.", "Can you {r}?", "I need you to {r}.")
HELD_OUT_FRAMES = ("Would you kindly {r}?", "Task: {r}.")


def instruction(request: str, frame: str) -> str:
    """Put a request (``write cat backwards``) into a frame (``Please {r}.``)."""
    return frame.replace("{R}", request[0].upper() + request[1:]).replace("{r}", request)


def chat_prompt(instruction_text: str) -> str:
    """The chat format of the course: what the model reads before it answers."""
    return f"User: {instruction_text}\nBot:"


@dataclass(frozen=True)
class Example:
    """One instruction example: the prompt the model reads, the reply it should give, and what was
    asked."""

    prompt: str
    response: str  # starts with a space and ends with EOS, e.g. " tac\n"
    skill: str
    word: str


def topics_from(
    text: str, candidates: Sequence[str] | None = None, min_lines: int = 8
) -> list[str]:
    """Topic words with at least ``min_lines`` usable lines in ``text`` (works for any English
    corpus)."""
    lines = _short_lines(text)
    candidates = candidates or TOPIC_CANDIDATES
    found = []
    for topic in candidates:
        pattern = re.compile(rf"\b{re.escape(topic)}\b", re.IGNORECASE)
        if sum(1 for line in lines if pattern.search(line)) >= min_lines:
            found.append(topic)
    return found


TOPIC_CANDIDATES = (
    "love",
    "death",
    "king",
    "heart",
    "life",
    "night",
    "blood",
    "time",
    "world",
    "father",
    "hand",
    "name",
    "queen",
    "lord",
    "honour",
    "peace",
    "war",
    "day",
    "man",
    "god",
    "mother",
    "friend",
    "son",
    "crown",
    "eyes",
    "soul",
    "hope",
    "fear",
    "grace",
    "house",
    "people",
    "country",
    "water",
    "fire",
    "heaven",
    "sword",
    "tongue",
    "brother",
    "woman",
    "child",
    "money",
    "police",
    "city",
    "team",
)


def _short_lines(text: str, min_len: int = 12, max_len: int = 36) -> list[str]:
    out = []
    for line in clean_text(text).splitlines():
        # verse comes in short lines; prose (e.g. the news corpus of the offline fallback) in long
        # paragraphs, which we cut into clauses so they can serve as one-line replies too
        pieces = re.split(r"(?<=[.!?;,])\s+", line) if len(line) > 120 else [line]
        for piece in pieces:
            piece = piece.strip()
            if min_len <= len(piece) <= max_len and not piece.endswith(":") and not piece.isupper():
                out.append(piece)
    return out


_COMMON = {
    "that",
    "this",
    "with",
    "have",
    "from",
    "they",
    "were",
    "them",
    "there",
    "which",
    "will",
    "would",
    "could",
    "should",
    "about",
    "after",
    "their",
    "than",
    "then",
    "when",
    "what",
    "where",
    "said",
    "says",
    "also",
    "been",
    "into",
    "only",
    "more",
    "most",
    "some",
    "such",
    "other",
    "these",
    "those",
    "just",
    "over",
    "very",
    "your",
    "year",
    "years",
    "three",
    "including",
}


def frequent_words(text: str, min_lines: int = 4) -> list[str]:
    """Words of 4+ letters (not function words) that appear in at least ``min_lines`` short lines,
    most frequent first."""
    from collections import Counter

    counts = Counter(
        w for line in _short_lines(text) for w in set(re.findall(r"\b[a-z]{4,}\b", line.lower()))
    )
    return [w for w, n in counts.most_common() if n >= min_lines and w not in _COMMON]


def topic_lines(text: str, topics: Sequence[str]) -> dict[str, list[str]]:
    """For each topic, the short lines of ``text`` that mention it (the replies of the open-ended
    task)."""
    lines = _short_lines(text)
    table = {}
    for topic in topics:
        pattern = re.compile(rf"\b{re.escape(topic)}\b", re.IGNORECASE)
        table[topic] = [line for line in lines if pattern.search(line)]
    return table


def instruction_examples(
    words: Sequence[str],
    lines_by_topic: dict[str, list[str]],
    n: int,
    *,
    frames: Sequence[str] = TRAIN_FRAMES,
    skills: Sequence[str] | None = None,
    line_fraction: float = 0.25,
    seed: int = 0,
) -> list[Example]:
    """``n`` instruction examples: skills on ``words``, plus a ``line_fraction`` of open-ended lines
    about topics."""
    rng = random.Random(seed)
    skills = list(skills or SKILLS)
    topics = [t for t, lines in lines_by_topic.items() if lines]
    out = []
    for _ in range(n):
        frame = rng.choice(list(frames))
        if topics and rng.random() < line_fraction:
            topic = rng.choice(topics)
            request = rng.choice(list(REQUESTS["line"])).format(w=topic)
            answer, skill, word = rng.choice(lines_by_topic[topic]), "line", topic
        else:
            skill, word = rng.choice(skills), rng.choice(list(words))
            request = rng.choice(list(REQUESTS[skill])).format(w=word)
            answer = SKILLS[skill](word)
        out.append(
            Example(chat_prompt(instruction(request, frame)), f" {answer}{EOS}", skill, word)
        )
    return out


def is_correct(example: Example, reply: str) -> bool:
    """Exact match for skills (after stripping spaces); for ``line`` requests, the reply must
    mention the topic."""
    reply = reply.strip()
    if example.skill == "line":
        return mentions(reply, example.word)
    return reply == SKILLS[example.skill](example.word)


def mentions(text: str, topic: str) -> bool:
    return re.search(rf"\b{re.escape(topic)}\b", text, re.IGNORECASE) is not None


def topic_of(prompt: str) -> str | None:
    """The topic word of a ``line about X`` prompt, or None."""
    match = re.search(r"(?:line about|something about) ([a-z]+)", prompt)
    return match.group(1) if match else None


# -------------------------------------------------------------------------- the simulated annotator
_VADER = None


def sentiment(text: str) -> float:
    """VADER compound sentiment in [-1, 1] (Hutto & Gilbert 2014; word ratings from human
    raters)."""
    global _VADER
    if _VADER is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _VADER = SentimentIntensityAnalyzer()
    return _VADER.polarity_scores(text)["compound"]


TOPIC_BONUS = 0.5


def is_degenerate(reply: str) -> bool:
    """A reply stuck in a loop: one word (2+ letters) said 3 times or more, and half its words or
    more.

    ``honour honour honourt honour honour`` is degenerate; ``the king and the queen`` is not.
    """
    words = re.findall(r"[a-z]{2,}", reply.lower())
    if len(words) < 3:
        return False
    most = Counter(words).most_common(1)[0][1]
    return most >= 3 and most >= len(words) / 2


def annotator_score(prompt: str, reply: str) -> float:
    """How much the simulated annotator likes ``reply``: kindness (VADER) plus a bonus for staying
    on topic.

    ``score = sentiment(reply) + 0.5 * [reply mentions the prompt's topic]`` — a transparent rule in
    place of a person. Replies that are empty, not words, or stuck repeating one word
    (:func:`is_degenerate`) score -1: a person would not want them, however kind the word.
    """
    reply = reply.strip()
    if not re.search(r"[A-Za-z]{2}", reply) or is_degenerate(reply):
        return -1.0
    topic = topic_of(prompt)
    bonus = TOPIC_BONUS if topic and mentions(reply, topic) else 0.0
    return sentiment(reply) + bonus


@dataclass(frozen=True)
class Pair:
    """A preference pair: the same prompt, the reply the annotator chose and the one it rejected."""

    prompt: str
    chosen: str
    rejected: str
    # annotator_score(chosen) - annotator_score(rejected) before noise (negative = flipped)
    margin: float


def annotate_pairs(
    prompts: Sequence[str],
    replies_a: Sequence[str],
    replies_b: Sequence[str],
    *,
    noise: float = 0.1,
    min_gap: float = 0.05,
    seed: int = 0,
) -> list[Pair]:
    """Label pairs of replies like a (noisy) annotator: prefer the higher score, flip ``noise`` of
    the labels.

    Pairs whose scores differ by less than ``min_gap`` are ties and are dropped (InstructGPT's
    labellers could also rank two answers as equally good).
    """
    if not (len(prompts) == len(replies_a) == len(replies_b)):
        raise ValueError("prompts, replies_a and replies_b must have the same length")
    if not 0 <= noise < 0.5:
        raise ValueError(f"label noise must lie in [0, 0.5), got {noise}")
    rng = random.Random(seed)
    pairs = []
    for prompt, a, b in zip(prompts, replies_a, replies_b):
        gap = annotator_score(prompt, a) - annotator_score(prompt, b)
        if abs(gap) < min_gap or a.strip() == b.strip():
            continue
        chosen, rejected = (a, b) if gap > 0 else (b, a)
        if rng.random() < noise:  # the annotator slips
            chosen, rejected = rejected, chosen
            pairs.append(Pair(prompt, chosen, rejected, -abs(gap)))
        else:
            pairs.append(Pair(prompt, chosen, rejected, abs(gap)))
    return pairs


def win_rate(prompts: Sequence[str], replies: Sequence[str], baseline: Sequence[str]) -> float:
    """Fraction of prompts where the annotator (noise-free) prefers ``replies`` to ``baseline``;
    ties count half."""
    if not prompts:
        raise ValueError("win_rate needs at least one prompt")
    total = 0.0
    for prompt, a, b in zip(prompts, replies, baseline):
        sa, sb = annotator_score(prompt, a), annotator_score(prompt, b)
        total += 1.0 if sa > sb else 0.5 if sa == sb else 0.0
    return total / len(prompts)


# ----------------------------------------------------------------------------- everything at once
@dataclass
class PartFourData:
    """The data of notebooks 09 and 10, built from one corpus (Tiny Shakespeare, or the offline
    fallback)."""

    train_text: str  # 90% of the corpus: the prose of the pretraining mix
    val_text: str  # the last 10%: pretraining validation, and the forgetting measurement
    train_words: list[str]  # words the skills are pretrained and fine-tuned on
    test_words: list[str]  # held-out words, only ever seen at evaluation
    train_topics: list[str]
    test_topics: list[str]
    # short corpus lines that mention each topic (the "line" replies)
    lines_by_topic: dict[str, list[str]]
    mix: str  # the pretraining text: prose and task documents


def prepare_data(
    text: str, *, task_fraction: float = 0.5, word_length: tuple[int, int] = (4, 4), seed: int = 0
) -> PartFourData:
    """Split the corpus, the words and the topics, and build the pretraining mix (deterministic).

    Words have ``word_length`` letters (default exactly 4): with a fixed length, every answer
    character sits at a fixed distance from the letter it comes from, which a small model learns
    fast."""
    text = clean_text(text)
    cut = int(len(text) * 0.9)
    train_text, val_text = text[:cut], text[cut:]
    words = words_from(text, *word_length)
    if len(words) < 50:
        raise ValueError(
            f"the corpus has only {len(words)} distinct short words; Part IV needs a text of at "
            "least a few pages"
        )
    train_words, test_words = split_held_out(words, 0.2, seed)
    topics = topics_from(train_text)
    # a corpus unlike Shakespeare (the offline news fallback): add its own frequent words, no
    # longer than the candidates (7 letters), so that every example fits a 96-character context
    # with room for notebook 09's soft prompt of 4 vectors
    if len(topics) < 8:
        extra = [w for w in frequent_words(train_text, min_lines=4) if len(w) <= 7]
        topics += [w for w in extra if w not in topics][: 12 - len(topics)]
    if len(topics) < 4:
        raise ValueError(
            "the corpus has too few lines about the candidate topics; pass a larger English text"
        )
    train_topics, test_topics = split_held_out(topics, 0.25, seed)
    return PartFourData(
        train_text,
        val_text,
        train_words,
        test_words,
        train_topics,
        test_topics,
        topic_lines(train_text, topics),
        pretraining_mix(train_text, train_words, task_fraction=task_fraction, seed=seed),
    )
