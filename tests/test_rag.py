"""course.rag: the knowledge base, chunking, the index, recall@k, prompts and scores."""

import itertools
import math
import re

import pytest
import torch
import torch.nn.functional as F

from course.rag.chunking import Chunk, chunk_documents, chunk_words, split_sentences, window_starts
from course.rag.generate import (
    Scores,
    answer_questions,
    build_prompt,
    check_question,
    extract_answer,
    follows,
    is_correct,
    score,
)
from course.rag.index import (
    Retriever,
    TfidfVectorizer,
    VectorIndex,
    mean_pooled_states,
    recall_at_k,
    relevant_ids,
    tokenize,
)
from course.rag.knowledge import ATTRIBUTES, build_knowledge_base, build_towns, questions, words_of


# ----------------------------------------------------------------------------- knowledge base
def test_knowledge_base_is_deterministic_for_a_seed():
    a, b = build_knowledge_base(seed=3), build_knowledge_base(seed=3)
    assert a == b
    assert build_knowledge_base(seed=4).documents != a.documents


def test_knowledge_base_names_are_new_and_distinct():
    forbidden = {"velmora", "oskel"}
    kb = build_knowledge_base(
        n_famous=5, n_train=40, n_held_out=20, seed=0, forbidden_words=forbidden
    )
    names = [t.name for t in kb.towns] + [t.river for t in kb.towns]
    names += [part for t in kb.towns for part in t.mayor.split()]
    assert len({n.lower() for n in names}) == len(names)  # every town, river and person is new
    assert not {n.lower() for n in names} & forbidden
    assert len(kb.documents) == 65 and [d.title for d in kb.documents] == [t.name for t in kb.towns]


def test_facts_are_absent_from_tiny_shakespeare():
    from course.data import DataUnavailable, load

    try:
        text = load("tinyshakespeare")
    except DataUnavailable:
        pytest.skip("no Tiny Shakespeare (nor its fallback) here")
    kb = build_knowledge_base(seed=0, forbidden_words=words_of(text))
    shakespeare = words_of(text)
    for town in kb.towns:
        assert town.name.lower() not in shakespeare and town.river.lower() not in shakespeare


def test_every_document_states_every_fact_and_questions_have_gold_answers():
    kb = build_knowledge_base(n_famous=2, n_train=3, n_held_out=2, seed=1)
    for town, doc in zip(kb.towns, kb.documents):
        for attribute in ATTRIBUTES:
            assert town.fact(attribute) in doc.text
    qs = questions(kb.held_out)
    assert len(qs) == 2 * len(ATTRIBUTES) * 3
    assert all(q.town in q.text and q.answer == kb.town(q.town).fact(q.attribute) for q in qs)


def test_towns_reject_bad_arguments():
    with pytest.raises(ValueError, match="at least 1"):
        build_towns(0)
    with pytest.raises(ValueError, match="unknown attribute"):
        build_towns(1)[0].fact("colour")


# ----------------------------------------------------------------------------- chunking
@pytest.mark.parametrize(
    "n, size, overlap", [(10, 4, 1), (10, 4, 0), (23, 6, 3), (7, 7, 2), (3, 5, 2), (100, 12, 11)]
)
def test_chunks_cover_the_text_with_the_stated_overlap(n, size, overlap):
    words = [f"w{i}" for i in range(n)]
    chunks = chunk_words(words, size, overlap)
    starts = window_starts(n, size, overlap)
    assert starts[0] == 0 and all(len(c) == min(size, n) for c in chunks)
    assert chunks[-1][-1] == words[-1]  # the tail is covered
    covered = set(itertools.chain.from_iterable(chunks))
    assert covered == set(words)
    for (s1, c1), (s2, c2) in zip(zip(starts, chunks), zip(starts[1:], chunks[1:])):
        shared = s1 + size - s2  # words the two windows share
        if s2 != starts[-1]:
            assert shared == overlap  # exactly the stated overlap between regular neighbours
        else:
            assert shared >= overlap  # the last window is moved back to end at the text's end
        assert c1[size - shared :] == c2[:shared]


def test_chunking_rejects_an_overlap_that_never_advances():
    with pytest.raises(ValueError, match="overlap must lie in"):
        window_starts(10, 4, 4)
    with pytest.raises(ValueError, match="chunk size"):
        window_starts(10, 0, 0)


def test_sentence_chunks_keep_sentences_whole_and_add_a_header_only_where_needed():
    doc = type(
        "Doc",
        (),
        {
            "title": "Velmora",
            "text": "Velmora is a town. It lies on the river Oskel. It was founded in 1423.",
        },
    )
    chunks = chunk_documents([doc], size=2, overlap=1, unit="sentence")
    assert [c.body for c in chunks] == [
        "Velmora is a town. It lies on the river Oskel.",
        "It lies on the river Oskel. It was founded in 1423.",
    ]
    assert chunks[0].text == chunks[0].body  # already names its document
    assert chunks[1].text == "Velmora: It lies on the river Oskel. It was founded in 1423."
    assert split_sentences(doc.text)[1] == "It lies on the river Oskel."
    words = chunk_documents([doc], size=4, overlap=2, unit="word")
    assert " ".join(
        w for c in words for w in c.body.split()[: (2 if c is not words[-1] else 4)]
    ).startswith("Velmora is")


# ----------------------------------------------------------------------------- index and recall
def test_index_returns_exact_nearest_neighbours_on_a_toy_set():
    g = torch.Generator().manual_seed(0)
    vectors, queries = torch.randn(50, 8, generator=g), torch.randn(5, 8, generator=g)
    scores, ids = VectorIndex(vectors).search(queries, k=4)
    # brute force, in plain Python
    for q, row_ids, row_scores in zip(queries, ids, scores):
        sims = [float(q @ v / (q.norm() * v.norm())) for v in vectors]
        best = sorted(range(50), key=lambda i: -sims[i])[:4]
        assert row_ids.tolist() == best
        assert row_scores.tolist() == pytest.approx([sims[i] for i in best], abs=1e-5)
    dot_scores, dot_ids = VectorIndex(vectors, metric="dot").search(queries, k=1)
    assert dot_ids[:, 0].tolist() == (queries @ vectors.T).argmax(1).tolist()


def test_index_errors_say_what_to_do():
    index = VectorIndex(torch.eye(3))
    with pytest.raises(ValueError, match="same embedder"):
        index.search(torch.ones(1, 4))
    with pytest.raises(ValueError, match="k must lie"):
        index.search(torch.ones(1, 3), k=4)
    with pytest.raises(ValueError, match="non-empty"):
        VectorIndex(torch.zeros(0, 3))


def test_recall_at_k_on_a_hand_made_case():
    retrieved = [[3, 1, 2], [0, 5, 4], [7, 8, 9], [2, 2, 6]]
    relevant = [{1}, {4, 9}, {0}, {2}]
    assert recall_at_k(retrieved, relevant, 1) == 1 / 4  # only the last query has its passage first
    assert recall_at_k(retrieved, relevant, 2) == 2 / 4
    assert recall_at_k(retrieved, relevant, 3) == 3 / 4  # query 3's passage is never retrieved
    assert recall_at_k(torch.tensor(retrieved), relevant, 3) == 3 / 4
    with pytest.raises(ValueError):
        recall_at_k(retrieved, relevant[:2], 1)


def test_tfidf_matches_the_formula():
    texts = ["the river Oskel", "river Velmora town", "Velmora Velmora"]
    vec = TfidfVectorizer(normalize=False).fit(texts)
    assert tokenize("Which river is Velmora's?") == ["river", "velmora"]
    n = 3
    idf = {
        w: math.log((1 + n) / (1 + df)) + 1
        for w, df in {"oskel": 1, "river": 2, "town": 1, "velmora": 2}.items()
    }
    row = vec.transform(["Velmora Velmora river"])[0]
    assert row[vec.vocab["velmora"]].item() == pytest.approx((1 + math.log(2)) * idf["velmora"])
    assert row[vec.vocab["river"]].item() == pytest.approx(idf["river"])
    assert row[vec.vocab["oskel"]].item() == 0
    assert TfidfVectorizer().fit(texts).transform(["river"]).norm().item() == pytest.approx(1.0)


def test_tfidf_retriever_finds_the_fact_in_the_knowledge_base():
    kb = build_knowledge_base(n_famous=2, n_train=10, n_held_out=10, seed=0)
    chunks = chunk_documents(kb.documents, 2, 1)
    retriever = Retriever(
        chunks, TfidfVectorizer(normalize=False).fit([c.text for c in chunks]), metric="dot"
    )
    qs = [q for q in questions(kb.held_out) if "known" not in q.text]
    _, ids = retriever.search([q.text for q in qs], k=1)
    rel = [relevant_ids(chunks, q.town, q.answer) for q in qs]
    assert recall_at_k(ids, rel, 1) == 1.0
    best, _ = retriever.retrieve("Which river is " + kb.held_out[0].name + " on?", k=1)[0]
    assert isinstance(best, Chunk) and kb.held_out[0].river in best.body


class _TinyLM(torch.nn.Module):
    """A stand-in with GPT's interface: embeddings -> one linear layer (causal by construction)."""

    def __init__(self, vocab=96, dim=8, block=64):
        super().__init__()
        self.config = type("Config", (), {"block_size": block, "vocab_size": vocab})()
        self.emb = torch.nn.Embedding(vocab, dim)
        self.head = torch.nn.Linear(dim, vocab)

    def hidden_states(self, idx):
        return self.emb(idx)

    def forward(self, idx, **kwargs):
        return self.head(self.emb(idx))


def test_mean_pooling_ignores_padding():
    from course.align.tasks import tokenizer

    tok, model = tokenizer(), _TinyLM()
    alone = mean_pooled_states(model, tok, ["ab"])
    batched = mean_pooled_states(model, tok, ["ab", "a much longer text"])
    assert torch.allclose(alone[0], batched[0], atol=1e-6)
    manual = model.emb(torch.tensor(tok.encode("ab"))).mean(0)
    assert torch.allclose(alone[0], manual / manual.norm(), atol=1e-6)


# ----------------------------------------------------------------------------- prompts and scores
def test_empty_or_over_long_questions_give_clear_errors():
    with pytest.raises(ValueError, match="question is empty"):
        check_question("   ")
    with pytest.raises(ValueError, match="ask a shorter question"):
        check_question("why " * 100)
    with pytest.raises(ValueError, match="question is empty"):
        build_prompt("")
    from course.align.tasks import tokenizer

    with pytest.raises(ValueError, match="reads at most 64"):
        answer_questions(
            _TinyLM(block=64), tokenizer(), ["Which river is Velmora on?"], contexts=[["x" * 80]]
        )
    with pytest.raises(ValueError, match="question is empty"):
        answer_questions(_TinyLM(), tokenizer(), [""])


def test_prompt_format_and_answer_extraction():
    assert build_prompt(" Which river? ") == "User: Which river?\nBot:"
    assert build_prompt("Q?", ["a b.", "c\nd."]) == "Context: a b. c d.\nUser: Q?\nBot:"
    assert extract_answer(" Oskel.\nUser: more") == "Oskel"
    assert is_correct(" copper  Bells.", "copper bells") and not is_correct("Osk", "Oskel")


def test_scores_add_up_and_count_hallucinations():
    s = score(["Oskel", "Rafo", "I don't know", "Velmora"], ["Oskel", "Jisteix", "Voukjul", "Rafo"])
    assert s == Scores(accuracy=0.25, hallucination_rate=0.5, abstention_rate=0.25, n=4)
    # saying nothing claims nothing
    assert score(["", " ."], ["Oskel", "Rafo"]).abstention_rate == 1.0
    f = follows(["Rafo", "Oskel", "x"], ["Rafo", "Rafo", "Rafo"], ["Oskel", "Oskel", "Oskel"])
    assert f == {"context": 1 / 3, "memory": 1 / 3, "neither": 1 / 3}
    with pytest.raises(ValueError):
        score([], [])


def test_answer_questions_runs_with_a_retriever_and_reports_passages():
    from course.align.tasks import tokenizer

    torch.manual_seed(0)
    kb = build_knowledge_base(n_famous=1, n_train=1, n_held_out=2, seed=0)
    chunks = chunk_documents(kb.documents, 2, 1)
    retriever = Retriever(chunks, TfidfVectorizer().fit([c.text for c in chunks]))
    model = _TinyLM(block=300)
    answers = answer_questions(
        model,
        tokenizer(),
        ["Which river is " + kb.held_out[0].name + " on?"],
        retriever=retriever,
        k=2,
        max_new_tokens=5,
    )
    a = answers[0]
    assert (
        len(a.passages) == 2 and a.prompt.startswith("Context: ") and a.passages[0][0] in a.prompt
    )
    assert 0 < a.confidence <= 1 and "\n" not in a.answer
    assert re.fullmatch(r"[^\n]{0,5}", a.answer)


def test_position_interpolation_keeps_the_ends_and_interpolates_between():
    from course.models.gpt import GPT, GPTConfig
    from course.rag.generate import interpolate_positions, with_longer_context

    wpe = torch.tensor([[0.0, 10.0], [2.0, 20.0], [4.0, 30.0]])
    new = interpolate_positions(wpe, 5)  # old positions 0, 0.5, 1, 1.5, 2
    assert torch.allclose(
        new, torch.tensor([[0.0, 10.0], [1.0, 15.0], [2.0, 20.0], [3.0, 25.0], [4.0, 30.0]])
    )
    torch.manual_seed(0)
    small = GPT(GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8))
    big = with_longer_context(small, 15)
    assert big.config.block_size == 15 and torch.equal(big.wte.weight, small.wte.weight)
    # every other new row is an old row
    assert torch.allclose(big.wpe.weight[::2], small.wpe.weight)
    assert big(torch.zeros(1, 15, dtype=torch.long)).shape == (1, 15, 11)
    with pytest.raises(ValueError, match="shorter"):
        with_longer_context(small, 4)


# ------------------------------------------------ the notebook's plain cells agree with the package
def test_notebook_windows_and_tfidf_by_hand_match_the_package():
    def windows(words, size, overlap):  # copied from notebook 11, section 4.1
        step = size - overlap
        starts = list(range(0, max(1, len(words) - size), step))
        if starts[-1] + size < len(words):
            starts.append(len(words) - size)
        return [words[s : s + size] for s in starts]

    for n, size, overlap in [(37, 12, 4), (12, 12, 3), (5, 12, 4), (40, 16, 10), (30, 6, 0)]:
        words = [f"w{i}" for i in range(n)]
        assert windows(words, size, overlap) == chunk_words(words, size, overlap)

    kb = build_knowledge_base(n_famous=1, n_train=5, n_held_out=2, seed=0)
    texts = [c.text for c in chunk_documents(kb.documents, 1, 0)]
    docs_words = [tokenize(t) for t in texts]  # copied from notebook 11, section 4.2
    vocab = sorted({w for ws in docs_words for w in ws})
    col = {w: i for i, w in enumerate(vocab)}
    from collections import Counter

    df = Counter(w for ws in docs_words for w in set(ws))
    N = len(texts)
    idf = torch.tensor([math.log((1 + N) / (1 + df[w])) + 1 for w in vocab])

    def tfidf_by_hand(text):
        v = torch.zeros(len(vocab))
        for w, n in Counter(tokenize(text)).items():
            if w in col:
                v[col[w]] = (1 + math.log(n)) * idf[col[w]]
        return v

    vec = TfidfVectorizer(normalize=False).fit(texts)
    for t in texts[:6] + ["Which river is " + kb.held_out[0].name + " on?"]:
        assert torch.allclose(vec.transform([t])[0], tfidf_by_hand(t))
    matrix = torch.stack([tfidf_by_hand(t) for t in texts])
    q = tfidf_by_hand(texts[3])
    cosine = F.normalize(matrix, dim=1) @ F.normalize(q, dim=0)
    assert VectorIndex(matrix).search(q, k=1)[1][0, 0].item() == cosine.argmax().item() == 3


def test_answer_confidence_is_the_mean_probability_of_the_reply_tokens():
    from course.align.tasks import tokenizer
    from course.rag.generate import answer_confidence

    torch.manual_seed(0)
    tok, model = tokenizer(), _TinyLM()
    prompt, reply = "User: Q?\nBot:", "Ab"
    ids = tok.encode(prompt + " Ab\n")
    with torch.no_grad():
        probs = model(torch.tensor([ids[:-1]]))[0].softmax(-1)  # (T, V)
    # position whose next token is the reply's first (the space)
    start = len(tok.encode(prompt)) - 1
    want = sum(probs[t, ids[t + 1]].item() for t in range(start, len(ids) - 1)) / (
        len(ids) - 1 - start
    )
    # batched with a longer row
    got = answer_confidence(model, tok, [prompt, "x"], [reply, "longer reply"])
    assert got[0] == pytest.approx(want, abs=1e-6)


def test_pad_prompt_fixes_the_length_and_refuses_long_prompts():
    from course.align.tasks import tokenizer
    from course.rag.generate import pad_prompt

    tok = tokenizer()
    assert pad_prompt(tok, "User: Q?\nBot:", 20) == "\n" * 7 + "User: Q?\nBot:"  # 13 characters + 7
    with pytest.raises(ValueError, match="fixed prompt length"):
        pad_prompt(tok, "x" * 30, 20)
    a = answer_questions(_TinyLM(block=64), tok, ["Which river?"], pad_to=40, max_new_tokens=4)[0]
    assert a.prompt == "User: Which river?\nBot:"  # reported without the padding
    with pytest.raises(ValueError, match="reads at most 64"):
        answer_questions(_TinyLM(block=64), tok, ["Which river?"], pad_to=62, max_new_tokens=4)


def test_reading_batches_start_every_answer_at_prompt_len_and_pad_replies_on_the_right():
    from course.align.sft import IGNORE
    from course.align.tasks import Example, tokenizer
    from course.rag.generate import reading_batches

    tok = tokenizer()
    examples = [
        Example("User: Q?\nBot:", " 1445\n", "year", "A"),
        Example("Context: long passage.\nUser: Which?\nBot:", " Ilsa Varn\n", "mayor", "B"),
    ]
    x, y = reading_batches(examples, tok, 2, prompt_len=44, seed=0)()
    assert x.shape == y.shape == (2, 44 + len(" Ilsa Varn\n") - 1)
    for row_x, row_y in zip(x.tolist(), y.tolist()):
        graded = [t for t, label in enumerate(row_y) if label != IGNORE]
        # position 43 predicts token 44: the reply's first character (the space)
        assert graded[0] == 43
        reply = tok.decode([row_y[t] for t in graded])
        assert reply in (" 1445\n", " Ilsa Varn\n")
        assert tok.decode(row_x[:44]).endswith("Bot:") and tok.decode(row_x[:44]).startswith("\n")
    short = [r for r in y.tolist() if tok.decode([t for t in r if t != IGNORE]) == " 1445\n"][0]
    # right padding is never graded
    assert short[-(len(" Ilsa Varn\n") - len(" 1445\n")) :] == [IGNORE] * 5


def test_practice_towns_share_no_name_with_the_knowledge_base():
    from course.rag.knowledge import names, practice_towns

    kb = build_knowledge_base(n_famous=2, n_train=5, n_held_out=5, seed=0)
    practice = practice_towns(200, kb, seed=0)  # even the same seed cannot reuse a name
    assert len(practice) == 200
    assert not names(practice) & names(kb.towns)
    assert practice == practice_towns(200, kb, seed=0)


def test_outcomes_separate_factuality_faithfulness_and_retrieval_errors():
    from course.rag.generate import OUTCOMES, outcome, outcomes

    passage = "Velmora: It lies on the river Rafo."
    assert outcome("Oskel", "Oskel", passage) == "correct"
    assert outcome("I don't know.", "Oskel", passage) == "abstained"
    assert outcome("Rafo", "Oskel") == "factuality error"  # no passage: memory invented it
    assert outcome("rafo.", "Oskel", passage) == "from the passage"  # faithful to a wrong passage
    assert outcome("Jist", "Oskel", passage) == "faithfulness error"  # the passage does not say it
    assert outcome("Raf", "Oskel", passage) == "faithfulness error"  # a word, not a substring
    # an unanswerable question (gold None): only an abstention is right
    assert (
        outcome("I don't know", None) == "abstained" and outcome("Rafo", None) == "factuality error"
    )
    shares = outcomes(
        ["Oskel", "", "Rafo", "Jist"],
        ["Oskel", "Oskel", None, "Oskel"],
        [None, None, passage, passage],
    )
    assert list(shares) == list(OUTCOMES) and sum(shares.values()) == pytest.approx(1.0)
    assert shares == {
        "correct": 0.25,
        "abstained": 0.25,
        "factuality error": 0.0,
        "faithfulness error": 0.25,
        "from the passage": 0.25,
    }
    with pytest.raises(ValueError, match="equally long"):
        outcomes(["a"], ["a", "b"])
