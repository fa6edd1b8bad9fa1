"""Translation with sentence pairs, notebooks 05 and 06: the names the two lessons import.

Each kind of code lives where CONTRIBUTING.md's table puts it, and this module gathers the lesson's
names in one place (the notebooks write ``from course.translation import load_task, translate``):

* the data: tasks, tokenizing, vocabularies, padded batches, BLEU on a split:
  ``course/seq2seq_data.py``;
* decoding a list of sentences with a trained encoder-decoder (greedy or beam search):
  ``translate`` and ``translator`` in ``course/generate.py``;
* the special tokens and their ids: ``course/special_tokens.py``.
"""

from course.generate import translate, translator
from course.seq2seq_data import (
    DIGIT_WORDS,
    Batch,
    Pair,
    TranslationTask,
    Vocab,
    collate,
    date_pairs,
    detokenize,
    load_pairs,
    load_task,
    make_batches,
    pad,
    spoken_digit_pairs,
    tokenize,
)
from course.special_tokens import (
    BOS,
    BOS_ID,
    EOS,
    EOS_ID,
    PAD,
    PAD_ID,
    SPECIALS,
    UNK,
    UNK_ID,
)

__all__ = [
    "BOS",
    "BOS_ID",
    "DIGIT_WORDS",
    "EOS",
    "EOS_ID",
    "PAD",
    "PAD_ID",
    "SPECIALS",
    "UNK",
    "UNK_ID",
    "Batch",
    "Pair",
    "TranslationTask",
    "Vocab",
    "collate",
    "date_pairs",
    "detokenize",
    "load_pairs",
    "load_task",
    "make_batches",
    "pad",
    "spoken_digit_pairs",
    "tokenize",
    "translate",
    "translator",
]
