import random

import pytest
import torch

from course import data
from course.metrics import bleu
from course.translation import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    UNK_ID,
    Vocab,
    collate,
    date_pairs,
    load_pairs,
    load_task,
    make_batches,
    spoken_digit_pairs,
    tokenize,
)


def test_tokenize_keeps_umlauts_contractions_and_times():
    assert tokenize("Tom isn't here.") == ["tom", "isn't", "here", "."]
    assert tokenize("Schön, größer!") == ["schön", ",", "größer", "!"]
    assert tokenize("Es ist 9.15\u00a0Uhr.") == ["es", "ist", "9.15", "uhr", "."]
    assert tokenize("ab", "char") == ["a", "b"]
    with pytest.raises(ValueError, match="level"):
        tokenize("x", "bpe")


def test_vocab_round_trip_specials_and_unknown_tokens():
    vocab = Vocab.build([["ich", "bin"], ["ich"]])
    assert vocab.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert (PAD_ID, BOS_ID, EOS_ID, UNK_ID) == (0, 1, 2, 3)
    ids = vocab.encode(["ich", "bin", "hier"], bos=True, eos=True)
    assert ids == [BOS_ID, 4, 5, UNK_ID, EOS_ID]
    assert vocab.decode(ids + [7, 7]) == ["ich", "bin", "<unk>"]  # stops at <eos>
    with pytest.raises(ValueError, match="unknown token"):
        vocab.encode(["hier"], strict=True)
    assert Vocab.build([["a"], ["b"], ["a"]], min_count=2).itos == [
        "<pad>",
        "<bos>",
        "<eos>",
        "<unk>",
        "a",
    ]
    with pytest.raises(ValueError, match="empty"):
        Vocab.build([[]])


def test_batches_pad_mask_and_shift_the_targets():
    batch = collate([[5, 6, EOS_ID], [7, EOS_ID]], [[8], [9, 10]])
    assert batch.src.tolist() == [[5, 6, EOS_ID], [7, EOS_ID, PAD_ID]]
    assert batch.src_mask.tolist() == [[True, True, True], [True, True, False]]
    assert batch.tgt_in.tolist() == [[BOS_ID, 8, PAD_ID], [BOS_ID, 9, 10]]
    assert batch.tgt_out.tolist() == [[8, EOS_ID, PAD_ID], [9, 10, EOS_ID]]
    with pytest.raises(ValueError, match="at least one token"):
        collate([[]], [[1]])


def test_make_batches_round_trip_covers_every_pair_once():
    pairs = spoken_digit_pairs(50, 2, 9, seed=4)
    task = load_task("spoken-digits", limit=50, val_size=5, test_size=5, min_words=2, max_words=9)
    batches = make_batches(
        pairs,
        task.src_vocab,
        task.tgt_vocab,
        batch_size=8,
        src_level="word",
        tgt_level="char",
        seed=1,
    )
    decoded = set()
    for b in batches:
        for src, out in zip(b.src.tolist(), b.tgt_out.tolist()):
            decoded.add((" ".join(task.src_vocab.decode(src)), "".join(task.tgt_vocab.decode(out))))
    assert decoded == set(pairs)
    assert sum(len(b) for b in batches) == 50
    again = make_batches(
        pairs,
        task.src_vocab,
        task.tgt_vocab,
        batch_size=8,
        src_level="word",
        tgt_level="char",
        seed=1,
    )
    assert all(torch.equal(a.src, b.src) for a, b in zip(batches, again))  # deterministic
    with pytest.raises(ValueError, match="empty"):
        make_batches([], task.src_vocab, task.tgt_vocab)


def test_synthetic_tasks_are_correct_and_deterministic():
    for human, iso in date_pairs(200, seed=2):
        assert len(iso) == 10 and iso[4] == "-" and iso[7] == "-"
        assert str(int(iso[8:])) in human  # the day appears in the human form
    assert date_pairs(20, seed=5) == date_pairs(20, seed=5)
    for spoken, digits in spoken_digit_pairs(300, 3, 12, seed=3):
        words = spoken.split()
        assert 3 <= len(words) <= 12
        expected, repeat = "", 1
        for w in words:  # decode the spoken form independently
            if w in ("double", "triple"):
                repeat = 2 if w == "double" else 3
            else:
                expected += (
                    str(
                        [
                            "zero",
                            "one",
                            "two",
                            "three",
                            "four",
                            "five",
                            "six",
                            "seven",
                            "eight",
                            "nine",
                        ].index(w)
                    )
                    * repeat
                )
                repeat = 1
        assert expected == digits


def test_task_splits_never_share_a_source_and_encode_source_errors():
    task = load_task("dates", limit=300, val_size=30, test_size=30)
    train_src = {s for s, _ in task.train}
    assert not train_src & {s for s, _ in task.test} and not train_src & {s for s, _ in task.val}
    src, mask = task.encode_source(["3 may 2001", "may 3"])
    assert src.shape == mask.shape and mask.sum(1).tolist() == [11, 6]  # characters + <eos>
    with pytest.raises(ValueError, match="empty"):
        task.encode_source("")
    with pytest.raises(ValueError, match="unknown token"):
        task.encode_source("3 may 2001 ☃")
    with pytest.raises(ValueError, match="unknown task"):
        load_task("klingon")


def test_eng_deu_loads_when_available_and_falls_back_to_dates_when_not(monkeypatch, tmp_path):
    if data.is_available("eng-deu"):
        pairs = load_pairs(max_len=5, limit=100)
        assert len(pairs) == 100 and all(
            len(tokenize(e)) <= 5 and len(tokenize(g)) <= 5 for e, g in pairs
        )
        task = load_task("eng-deu", limit=2000, val_size=100, test_size=100)
        assert task.name == "eng-deu" and len(task.test) >= 100
    monkeypatch.delenv("COURSE_DATA_DIR", raising=False)
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    with pytest.raises(data.DataUnavailable):
        load_pairs()
    task = load_task("eng-deu", limit=200, val_size=20, test_size=20)
    assert task.name == "dates" and task.src_level == "char"


def test_bleu_matches_sacrebleu():
    sacrebleu = pytest.importorskip("sacrebleu")
    rng = random.Random(0)
    words = ["der", "die", "das", "ein", "hund", "katze", "sieht", "läuft", "schnell", "nicht"]
    for trial in range(30):
        refs = [
            " ".join(rng.choices(words, k=rng.randint(1, 9))) for _ in range(rng.randint(1, 12))
        ]
        hyps = [" ".join(rng.choices(r.split() + words[:3], k=rng.randint(1, 10))) for r in refs]
        ours = bleu(hyps, refs)
        theirs = sacrebleu.corpus_bleu(hyps, [refs], tokenize="none").score
        assert ours == pytest.approx(theirs, abs=1e-9), (trial, hyps, refs)
    assert bleu(["a b c d"], ["a b c d"]) == pytest.approx(100.0)
    assert bleu(["x"], ["a b"]) == 0.0
    with pytest.raises(ValueError, match="one reference"):
        bleu(["a"], [])


def test_multi_reference_bleu_matches_sacrebleu_and_clips_per_reference():
    sacrebleu = pytest.importorskip("sacrebleu")
    rng = random.Random(1)
    words = ["der", "die", "das", "ein", "hund", "katze", "sieht", "läuft", "schnell", "nicht"]
    for trial in range(20):
        refs = [
            [" ".join(rng.choices(words, k=rng.randint(1, 9))) for _ in range(2)]
            for _ in range(rng.randint(1, 8))
        ]
        hyps = [" ".join(rng.choices(r[0].split() + words[:3], k=rng.randint(1, 10))) for r in refs]
        ours = bleu(hyps, refs)
        theirs = sacrebleu.corpus_bleu(
            hyps, [[r[0] for r in refs], [r[1] for r in refs]], tokenize="none"
        ).score
        assert ours == pytest.approx(theirs, abs=1e-9), (trial, hyps, refs)
    # a hypothesis equal to any one of its references is perfect
    assert bleu(
        ["ich bin jetzt hier ."], [["ich bin jetzt da .", "ich bin jetzt hier ."]]
    ) == pytest.approx(100.0)
    assert bleu(["ich bin jetzt hier ."], [["ich bin jetzt da ."]]) < 100.0


def test_task_bleu_groups_the_targets_of_one_source():
    from course.translation import TranslationTask, Vocab

    pairs = [("hi .", "hallo du da ."), ("hi .", "servus du da ."), ("go .", "geh du nur .")]
    task = TranslationTask(
        "toy",
        [],
        [],
        pairs,
        Vocab(["hi", "go", "."]),
        Vocab(["hallo", "servus", "geh", "du", "da", "nur", "."]),
    )
    seen = []

    def translate(sources):
        seen.append(list(sources))
        return ["servus du da ." if s == "hi ." else "geh du nur ." for s in sources]

    assert task.bleu(translate, multi_reference=True) == pytest.approx(100.0)
    assert seen[-1] == ["hi .", "go ."]  # each source translated once
    # row by row, "servus ..." is scored against "hallo ..." too
    assert task.bleu(translate) < 100.0


def test_translate_passes_the_length_penalty_to_beam_search_only_when_set():
    from course.translation import TranslationTask, Vocab, translate

    class Recorder(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = torch.nn.Parameter(torch.zeros(1))
            self.calls = []

        def beam_search(self, src, src_mask, beam_size, max_len, **extra):
            self.calls.append(extra)
            return torch.tensor([[4, 2]]), None  # one word, then <eos>

    task = TranslationTask("toy", [], [], [], Vocab(["hi", "."]), Vocab(["hallo"]))
    model = Recorder()
    assert translate(model, task, ["hi ."], beam_size=3, length_penalty=0.5) == ["hallo"]
    translate(model, task, ["hi ."], beam_size=3)
    assert model.calls == [{"length_penalty": 0.5}, {}]


def test_the_lesson_module_gathers_names_from_their_homes():
    # notebooks 05 and 06 import from course.translation; the data lives in course.seq2seq_data,
    # decoding in course.generate, the special tokens in course.special_tokens
    import ast
    import inspect

    from course import generate, seq2seq_data, special_tokens, translation

    homes = (seq2seq_data, generate, special_tokens)
    for name in translation.__all__:
        assert any(getattr(translation, name) is getattr(h, name, None) for h in homes), name
    # layers import only downwards: the data never imports inference code
    tree = ast.parse(inspect.getsource(seq2seq_data))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not imported & {"course.generate", "course.translation", "course.train"}
