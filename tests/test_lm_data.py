"""Random-window batches: targets are inputs shifted by one, splits are contiguous, seeds
reproduce."""

import pytest
import torch

from course.lm_data import batcher, random_windows, train_val_split


def test_targets_are_inputs_shifted_by_one():
    tokens = torch.arange(1000)
    x, y = random_windows(tokens, 8, 16, generator=torch.Generator().manual_seed(0))
    assert x.shape == y.shape == (8, 16)
    assert torch.equal(y[:, :-1], x[:, 1:])
    assert torch.equal(y - x, torch.ones_like(x))  # consecutive ids: each target is its input + 1
    assert int(y.max()) <= 999


def test_windows_cover_the_ends_of_the_text():
    tokens = torch.arange(20)
    seen = set()
    gen = torch.Generator().manual_seed(0)
    for _ in range(200):
        x, y = random_windows(tokens, 4, 5, generator=gen)
        seen.update(x[:, 0].tolist())
        assert int(y.max()) <= 19
    assert seen == set(range(15))  # every legal start 0..14 is drawn


def test_split_is_contiguous_and_complete():
    train, val = train_val_split(list(range(100)), val_fraction=0.1)
    assert train.tolist() == list(range(90)) and val.tolist() == list(range(90, 100))
    with pytest.raises(ValueError):
        train_val_split([1, 2, 3], val_fraction=1.5)


def test_batcher_is_reproducible_and_rejects_short_text():
    a, b = batcher(torch.arange(500), 4, 8, seed=3), batcher(torch.arange(500), 4, 8, seed=3)
    for _ in range(3):
        xa, _ = a()
        xb, _ = b()
        assert torch.equal(xa, xb)
    with pytest.raises(ValueError, match="block_size"):
        batcher(torch.arange(5), 2, 8)


def test_a_batcher_saves_and_restores_its_place_in_the_stream():
    source = batcher(torch.arange(500), 4, 8, seed=3)
    source()
    saved = source.state_dict()
    expected = [source() for _ in range(3)]
    fresh = batcher(torch.arange(500), 4, 8, seed=3)
    fresh.load_state_dict(saved)
    for x, y in expected:
        fx, fy = fresh()
        assert torch.equal(fx, x) and torch.equal(fy, y)
    assert batcher(torch.arange(500), 4, 8).state_dict() == {}  # no seed: the global RNG decides
