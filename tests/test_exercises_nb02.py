import numpy as np
from test_exercises import wrong, wrong_answers_fail

from course.exercises import nb02 as check
from course.exercises.solutions import nb02 as solution
from course.models import word2vec


def test_solutions_agree_with_the_package():
    ids = np.arange(7)
    ours = sorted(solution.skipgram_pairs(list(ids), 3))
    assert ours == sorted(map(tuple, word2vec.skipgram_pairs(ids, 3, dynamic=False).tolist()))
    counts = np.array([5.0, 1.0, 30.0])
    assert np.allclose(solution.noise_distribution(counts), word2vec.noise_distribution(counts))


def right_only(t, w):
    return [(t[i], t[j]) for i in range(len(t)) for j in range(i + 1, min(len(t), i + w + 1))]


def no_exclusion(E, itos, a, b, c):
    E = E / np.linalg.norm(E, axis=1, keepdims=True)
    s = {w: i for i, w in enumerate(itos)}
    return itos[int(np.argmax(E @ (E[s[b]] - E[s[a]] + E[s[c]])))]


test_wrong_answers_fail_with_a_hint = wrong_answers_fail(
    wrong(check.skipgram_pairs, right_only, "only looks to the right"),
    wrong(check.noise_distribution, lambda c: np.asarray(c) / np.sum(c), "forgets the 3/4 power"),
    wrong(check.analogy, no_exclusion, "may answer one of the three question words"),
)
