"""The course toolkit: what instructors and authors use, never imported by ``abteach`` itself.

Install it with the extra: ``pip install "abteach[course]"``. It holds

* :mod:`abteach.course.check`: the exercise checks learners call (``check("05.1", answer)``);
* ``abteach.course.answers``: the answer keys, one module per chapter;
* :mod:`abteach.course.grade`: the grader (``abteach-grade``), with its sandbox
  (:mod:`abteach.course.sandbox`, ``abteach.course._runner``) and its CSV files
  (:mod:`abteach.course.gradebook`);
* :mod:`abteach.course.exercises`: the generator of the student notebooks (``abteach-exercises``);
* :mod:`abteach.course.editions`: class editions, the exercises with the instructor's own numbers;
* ``abteach.course.notebooks``: normalizing and re-executing the course notebooks;
* ``abteach.course.sphinx_plotly`` and ``abteach.course.sphinx_api``: the Sphinx and myst-nb
  plugins of the book (plotly figures offline; cross-references to the names learners import).
"""


def missing_extra(error: ImportError) -> ImportError:
    """The error a toolkit module raises when a package of the ``course`` extra is missing."""
    return ImportError(
        f"{error}. This part of the course toolkit needs its extra: "
        'pip install "abteach[course]"',
        name=error.name,
    )
