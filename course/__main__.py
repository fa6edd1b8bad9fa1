"""``python -m course ...`` (and the ``course`` console script): see course/cli/ for the
commands."""

from course.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
