"""The course toolkit: what instructors and authors use, never imported by ``abteach`` itself.

Install it with the extra: ``pip install "abteach[course]"``. It holds

* :mod:`abteach.course.check`: the exercise checks learners call (``check("05.1", answer)``);
* :mod:`abteach.course.answers`: the answer keys, one module per chapter;
* :mod:`abteach.course.grade`: the grader (``abteach-grade``);
* :mod:`abteach.course.exercises`: the generator of the student notebooks (``abteach-exercises``);
* :mod:`abteach.course.notebooks`: normalizing and re-executing the course notebooks;
* :mod:`abteach.course.sphinx_plotly`: the myst-nb plugin that renders plotly figures in the book.
"""


def missing_extra(error: ImportError) -> ImportError:
    """The error a toolkit module raises when a package of the ``course`` extra is missing."""
    return ImportError(
        f"{error}. This part of the course toolkit needs its extra: "
        'pip install "abteach[course]"',
        name=error.name,
    )
