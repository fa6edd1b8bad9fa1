"""The second of the "two files": ``run.py``, a NumPy-only program that runs an exported GPT.

``run.py`` imports nothing but NumPy and the standard library, so it can be copied beside a weights
file (``course.export.write_runner``) and run on any machine with NumPy. Notebook 13 builds it cell
by cell; ``tests/test_export.py`` checks that the notebook's cells and this file are the same text.
"""
