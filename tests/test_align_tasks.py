import pytest

from course.align import tasks


def test_skills_by_hand():
    assert [tasks.SKILLS[s]("cat") for s in ("reverse", "upper", "shift", "rot13")] == [
        "tac",
        "CAT",
        "dbu",
        "png",
    ]
    assert tasks.SKILLS["shift"]("zoo") == "app"
    assert tasks.SKILLS["rot13"](tasks.SKILLS["rot13"]("hello")) == "hello"


def test_tokenizer_covers_every_prompt_and_cleans_foreign_characters():
    tok = tasks.tokenizer()
    assert tok.vocab_size == 96
    assert tasks.clean_text("caf\u00e9\tok") == "caf  ok"
    text = tasks.chat_prompt(tasks.instruction("write cat backwards", "Would you kindly {r}?"))
    assert (
        tok.decode(tok.encode(text)) == text == "User: Would you kindly write cat backwards?\nBot:"
    )


def test_few_shot_prompt_format():
    assert tasks.few_shot_prompt("upper", ["ab", "cd"], "ef") == "\nab = AB\ncd = CD\nef ="
    assert tasks.few_shot_prompt("reverse", [], "ab") == "\nab ="


def test_held_out_split_is_disjoint_and_deterministic():
    words = [f"w{i}" for i in range(50)]
    train, test = tasks.split_held_out(words, 0.2, seed=3)
    assert len(test) == 10 and not set(train) & set(test) and sorted(train + test) == sorted(words)
    assert tasks.split_held_out(words, 0.2, seed=3) == (train, test)
    with pytest.raises(ValueError):
        tasks.split_held_out(words, 1.5)


def test_pretraining_mix_proportion_and_only_training_words():
    prose = "\n\n".join(f"Line {i} of some prose text here." for i in range(200))
    mix = tasks.pretraining_mix(prose, ["abc", "def"], task_fraction=0.5, seed=0)
    task_lines = [l for l in mix.splitlines() if " = " in l]
    task_chars = sum(len(l) + 1 for l in task_lines)
    assert 0.4 < task_chars / len(mix) < 0.6
    assert {l.split(" = ")[0] for l in task_lines} <= {"abc", "def"}
    # every task document uses one skill
    for doc in mix.split("\n\n"):
        lines = [l for l in doc.splitlines() if " = " in l]
        if lines:
            assert (
                len(
                    {
                        next(
                            s
                            for s in tasks.SKILLS
                            if tasks.SKILLS[s](l.split(" = ")[0]) == l.split(" = ")[1]
                        )
                        for l in lines
                    }
                )
                == 1
            )


def test_instruction_examples_use_only_the_given_frames():
    lines = {"love": ["I love thee well."]}
    train = tasks.instruction_examples(["abc"], lines, 60, frames=tasks.TRAIN_FRAMES, seed=0)
    held = tasks.instruction_examples(["abc"], lines, 60, frames=tasks.HELD_OUT_FRAMES, seed=0)
    assert all(
        not e.prompt.startswith("User: Would you kindly") and "Task:" not in e.prompt for e in train
    )
    assert all(
        e.prompt.startswith("User: Would you kindly") or e.prompt.startswith("User: Task:")
        for e in held
    )
    assert all(e.response.startswith(" ") and e.response.endswith("\n") for e in train)
    assert {e.skill for e in train} == {"reverse", "upper", "shift", "rot13", "line"}
    example = next(e for e in train if e.skill == "reverse")
    assert tasks.is_correct(example, " cba") and not tasks.is_correct(example, "abc")


def test_annotator_likes_kind_on_topic_replies():
    prompt = tasks.chat_prompt("Write a line about love.")
    assert tasks.topic_of(prompt) == "love"
    kind, cruel, off_topic = (
        "I love thee, sweet friend.",
        "I hate thee, vile wretch.",
        "A sweet and happy day.",
    )
    assert (
        tasks.annotator_score(prompt, kind)
        > tasks.annotator_score(prompt, off_topic)
        > tasks.annotator_score(prompt, cruel)
    )
    assert tasks.annotator_score(prompt, "") == -1.0
    assert tasks.win_rate([prompt, prompt], [kind, cruel], [cruel, cruel]) == 0.75


def test_annotator_dislikes_a_reply_stuck_in_a_loop():
    # the reply notebook 10's policy collapsed onto without a KL penalty: kind words, but no person
    # wants it
    prompt = tasks.chat_prompt("Write a line about honour.")
    loop = "honour honour honourt honour honour"
    assert tasks.is_degenerate(loop) and tasks.sentiment(loop) > 0.5
    assert tasks.annotator_score(prompt, loop) == -1.0
    assert not tasks.is_degenerate("the king and the queen") and not tasks.is_degenerate(
        "love love"
    )
    assert tasks.annotator_score(prompt, "my honour and thy honour") > 0


def test_annotate_pairs_drops_ties_and_flips_about_the_noise_rate():
    prompt = tasks.chat_prompt("Write a line about love.")
    n = 2000
    pairs = tasks.annotate_pairs(
        [prompt] * n, ["I love thee."] * n, ["I hate thee."] * n, noise=0.1, seed=0
    )
    flipped = sum(p.chosen == "I hate thee." for p in pairs) / n
    assert 0.08 < flipped < 0.12
    assert all((p.margin < 0) == (p.chosen == "I hate thee.") for p in pairs)
    assert tasks.annotate_pairs([prompt], ["the cat"], ["the dog"]) == []  # a tie is no preference
    with pytest.raises(ValueError):
        tasks.annotate_pairs([prompt], ["a"], [])


def test_topics_and_lines_come_from_the_text():
    text = "\n".join(["My love is like a rose."] * 10 + ["The king is dead."] * 3)
    assert tasks.topics_from(text, ["love", "king"], min_lines=5) == ["love"]
    assert tasks.topic_lines(text, ["king"])["king"] == ["The king is dead."] * 3


def test_prepare_data_splits_everything_and_handles_prose_corpora():
    verse = "\n".join(
        f"My {t} is like the {w} of day."
        for t in tasks.TOPIC_CANDIDATES[:10]
        for w in ("rose", "moon", "sun", "star", "wind", "rain", "snow", "tree", "sea", "sky")
    )
    words = " ".join(
        f"{a}{b}{c}{d}"
        for a, b, c, d in zip(
            "abcdefghijklmnopqrst" * 4,
            "eiouaeiouaeiouaeiou" * 4,
            "rstlnmrstlnmrstlnm" * 5,
            "eaeaeaeaeaeaeaeaea" * 5,
        )
    )
    data = tasks.prepare_data(verse + "\n" + words * 3 + "\n" + verse)
    assert not set(data.train_words) & set(data.test_words)
    assert (
        not set(data.train_topics) & set(data.test_topics)
        and len(data.train_topics + data.test_topics) >= 4
    )
    assert all(len(w) == 4 for w in data.train_words)
    # a prose corpus (long paragraphs, none of the candidate topics) is cut into clauses and finds
    # its own topics
    paragraph = " ".join(
        f"The harbour pilots said the {w} was calm, and the ferry crews agreed."
        for w in ("water", "weather", "morning", "evening", "channel", "coast", "tide", "river")
    )
    pieces = tasks._short_lines(paragraph)
    assert pieces and all(12 <= len(p) <= 36 for p in pieces)
    assert "ferry" in tasks.frequent_words(paragraph * 2, min_lines=4)
