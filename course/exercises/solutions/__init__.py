"""Worked solutions to the exercises, one module per notebook (kept out of the learner's way)."""
