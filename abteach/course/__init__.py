"""The course toolkit: what instructors and authors use, never imported by ``abteach`` itself.

Install it with the extra: ``pip install "abteach[course]"``. It holds

* :mod:`abteach.course.check`: the exercise checks learners call (``check("05.1", answer)``);
* :mod:`abteach.course.answers`: the answer keys, one module per chapter;
* :mod:`abteach.course.grade`: the grader (``abteach-grade``), with its sandbox
  (:mod:`abteach.course.sandbox`, :mod:`abteach.course._runner`) and its CSV files
  (:mod:`abteach.course.gradebook`);
* :mod:`abteach.course.exercises`: the generator of the student notebooks (``abteach-exercises``);
* :mod:`abteach.course.editions`: class editions, the exercises with the instructor's own numbers;
* :mod:`abteach.course.notebooks`: normalizing and re-executing the course notebooks;
* :mod:`abteach.course.sphinx_plotly`: the myst-nb plugin that renders plotly figures in the book.
"""
