from course.exercises import nb11 as check
from course.rag import chunking, generate, index


def test_the_package_passes_the_same_checks():
    assert check.chunk_words(chunking.chunk_words)
    assert check.recall_at_k(index.recall_at_k)
    assert check.hallucination_rate(lambda r, g: generate.score(r, g).hallucination_rate)


def test_wrong_answers_fail_with_a_hint(capsys):
    # steps by `size` instead of `size - overlap`
    assert not check.chunk_words(lambda w, s, o: [list(w[i : i + s]) for i in range(0, len(w), s)])
    # counts relevant ids instead of queries
    assert not check.recall_at_k(
        lambda r, rel, k: sum(len(set(x[:k]) & set(y)) for x, y in zip(r, rel)) / len(r)
    )
    # counts every wrong reply, abstentions included
    assert not check.hallucination_rate(
        lambda r, g: sum(a.strip() != b for a, b in zip(r, g)) / len(r)
    )
    # averages over padding too
    assert not check.mean_pool(lambda h, m: h.mean(1))
    assert "Hint" in capsys.readouterr().out


def test_a_function_returning_none_gets_a_hint_not_an_error(capsys):
    assert not check.chunk_words(lambda w, s, o: None)
    assert not check.recall_at_k(lambda r, rel, k: None)
    assert not check.hallucination_rate(lambda r, g: None)
    assert not check.mean_pool(lambda h, m: None)
    assert "Hint" in capsys.readouterr().out
