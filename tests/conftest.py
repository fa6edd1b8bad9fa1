"""Fixtures shared by several test files."""

import pytest
import torch


@pytest.fixture(scope="module")
def one_thread():
    """Models this small run fastest on one thread; on a busy 2-core machine two threads can be 30x
    slower. Use it with ``pytestmark = pytest.mark.usefixtures("one_thread")``."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


# ------------------------------------------------------------ tiny models that several files share
@pytest.fixture
def chat_gpt_config():
    """The GPT of the Part IV tests (tests/test_dpo.py, tests/test_ppo.py): Part IV's character
    vocabulary, a 32-character context, one layer, two heads, 32 channels."""
    from course.align import tasks
    from course.models.gpt import GPTConfig

    vocab_size = tasks.tokenizer().vocab_size
    return GPTConfig(vocab_size=vocab_size, block_size=32, n_layer=1, n_head=2, n_embd=32)


@pytest.fixture
def bertviz_attentions():
    """``(attentions, tokens)`` for the bertviz views of tests/test_book.py and
    tests/test_browser.py: an untrained tiny GPT (seed 0) reading "To be, or not"."""
    from course.models.gpt import GPT, GPTConfig

    torch.manual_seed(0)
    tokens = list("To be, or not")
    vocab = sorted(set(tokens))
    config = GPTConfig(vocab_size=len(vocab), block_size=16, n_layer=2, n_head=4, n_embd=32)
    attentions = GPT(config).eval().attention_maps(torch.tensor([[vocab.index(t) for t in tokens]]))
    return attentions, tokens
