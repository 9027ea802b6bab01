"""Answer keys of the exercises: one module per chapter (``ch01``, ``ch02``, ...), each defining
``EXERCISES``, a tuple of :class:`abteach.course.check.Exercise` records. See :mod:`abteach.course.check`."""
