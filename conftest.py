"""What pytest collects from the whole checkout (read before tests/ and notebooks/).

notebooks/zh-CN/ holds the Chinese edition, built by ``python -m course translate``. Its code cells
are the English notebooks' code cells byte for byte (tests/test_translations.py checks it), so
running them under nbval as well would double the time of ``make test`` and test nothing new.
"""

collect_ignore = ["notebooks/zh-CN"]
