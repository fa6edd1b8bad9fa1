"""course.threads: one torch thread per core that other programs leave idle."""

import subprocess
import sys

import pytest
import torch

from course import threads


@pytest.fixture
def fresh(monkeypatch):
    """Forget the once-per-process choice, and give torch its thread count back afterwards."""
    before = torch.get_num_threads()
    monkeypatch.setattr(threads, "_chosen", None)
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(
    "cores, busy, expected",
    [
        (2, 0.0, 2),  # quiet: every core
        (2, 0.3, 2),  # a background program using a third of a core costs nothing
        (2, 1.0, 1),  # one busy program: the other core only
        (2, 3.5, 1),  # overloaded: still one thread
        (8, 2.2, 6),
        (4, None, 4),  # unknown (no /proc/stat, no load average): torch's default
    ],
)
def test_choose_threads(cores, busy, expected):
    assert threads.choose_threads(cores, busy) == expected


def test_course_threads_wins(fresh, monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "1")
    assert threads.use_idle_cores() == (1, "COURSE_THREADS")
    assert torch.get_num_threads() == 1


def test_course_threads_must_be_a_count(fresh, monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "two")
    with pytest.raises(ValueError, match="COURSE_THREADS='two'.*e.g. 2"):
        threads.use_idle_cores()


def test_omp_num_threads_is_left_alone(fresh, monkeypatch):
    monkeypatch.delenv("COURSE_THREADS", raising=False)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    torch.set_num_threads(3)
    assert threads.use_idle_cores() == (3, "OMP_NUM_THREADS")
    assert torch.get_num_threads() == 3


def test_decided_once_per_process(fresh, monkeypatch):
    monkeypatch.setenv("COURSE_THREADS", "1")
    first = threads.use_idle_cores()
    monkeypatch.setenv("COURSE_THREADS", "2")
    assert threads.use_idle_cores() == first


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="samples Linux's /proc/stat")
def test_busy_cores_sees_a_busy_program():
    spinner = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        busy = threads.busy_cores(sample_seconds=0.5)
    finally:
        spinner.kill()
        spinner.wait()
    assert busy is not None and busy >= 0.6  # the spinner takes a whole core
