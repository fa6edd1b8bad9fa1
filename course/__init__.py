"""llm-course: the helper package the notebooks import.

The handful of names a notebook needs first live here; everything else is imported from its own
module (``from course.train import fit``), so a learner can open that file beside the lesson.
"""

from course.config import budget, is_fast
from course.data import load
from course.device import autocast, get_device, seed_everything

__version__ = "0.1.0"
__all__ = ["autocast", "budget", "get_device", "is_fast", "load", "seed_everything", "__version__"]
