"""Class editions: the public edition is the published notebook, editions differ from it and from
each other, each edition's key accepts its own answers and refuses the published ones."""

from __future__ import annotations

import hashlib
import hmac
import math

import nbformat
import numpy as np
import pytest

from abteach.course.check import CORRECT, exercises_for
from abteach.course.editions import (
    edition_exercises,
    edition_inputs,
    edition_notebook,
    edition_tag,
    exercise_rng,
    has_editions,
)
from abteach.course.exercises import main as exercises_main
from conftest import ROOT, read

CHAPTERS = [1, 2, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
SECRETS = ["first class secret", "second class secret", "spring 2027 section B"]


def exercise_notebook(chapter: int):
    return read(next((ROOT / "exercises").glob(f"{chapter:02d}_*.ipynb")))


def expected(exercise):
    value = exercise.answer.expected
    return value() if callable(value) else value


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_public_inputs_reproduce_the_published_notebook_text(chapter):
    """Each substitution's text, written for the public inputs, is the published text, found as
    often as declared; so an edition changes exactly the numbers and nothing else drifts."""
    from importlib import import_module

    module = import_module(f"abteach.course.answers.ch{chapter:02d}")
    nb = exercise_notebook(chapter)
    for sub in module.SUBSTITUTIONS:
        assert sub.new(module.PUBLIC_INPUTS) == sub.old
        assert sum(cell.source.count(sub.old) for cell in nb.cells) == sub.count, sub.old
    public = [expected(ex) for ex in edition_exercises(chapter, None)]
    again = [expected(ex) for ex in module.exercises(edition_inputs(chapter, None))]
    assert public == again


@pytest.mark.parametrize("chapter", CHAPTERS)
@pytest.mark.parametrize("secret", SECRETS)
def test_an_edition_refuses_the_published_answers(chapter, secret):
    """Numbers differ; the options of the fixed (multiple-choice) exercises are shuffled so that
    the published letter is wrong. Only a True/False answer can coincide."""
    public = {ex.id: expected(ex) for ex in exercises_for(chapter)}
    for ex in edition_exercises(chapter, secret):
        own = expected(ex)
        if isinstance(own, float):
            assert math.isfinite(own)
        assert ex.evaluate(own).status == CORRECT, ex.id
        if not isinstance(own, (bool, np.bool_)):
            assert ex.evaluate(public[ex.id]).status != CORRECT, f"{ex.id}: published answer right in {secret!r}"


@pytest.mark.parametrize("chapter", [c for c in CHAPTERS if c != 14])  # 14: no multiple choice
def test_fixed_exercises_keep_their_options_in_another_order(chapter):
    from abteach.course.editions import OPTION

    public, edition = exercise_notebook(chapter), edition_notebook(exercise_notebook(chapter), chapter, SECRETS[0])
    fixed = [ex for ex in exercises_for(chapter) if ex.fixed]
    assert fixed
    for ex in fixed:
        cells = [next(c.source for c in nb.cells if f"Exercise {ex.id}:" in c.source) for nb in (public, edition)]
        bodies = [sorted(part.strip() for part in OPTION.split(cell)[4::4]) for cell in cells]
        assert bodies[0] == bodies[1] and cells[0] != cells[1]
        assert cells[0][: OPTION.search(cells[0]).start()] == cells[1][: OPTION.search(cells[1]).start()]
        key = next(e for e in edition_exercises(chapter, SECRETS[0]) if e.id == ex.id).answer
        (_, public_letters, public_bodies), (_, letters, bodies) = (
            (None, OPTION.split(cell)[2::4], OPTION.split(cell)[4::4]) for cell in cells)
        right_text = bodies[letters.index(key.expected)].strip()
        assert right_text == public_bodies[public_letters.index(ex.answer.expected)].strip()
        assert key.expected != ex.answer.expected


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_editions_differ_from_each_other(chapter):
    inputs = [edition_inputs(chapter, secret) for secret in SECRETS]
    for group in inputs[0]:
        assert len({repr(i[group]) for i in inputs}) > 1, group


def test_the_seed_is_the_hmac_of_the_exercise_id():
    digest = hmac.new(b"first class secret", b"05.1", hashlib.sha256).digest()
    expected_draw = np.random.default_rng(int.from_bytes(digest, "big")).random()
    assert exercise_rng("first class secret", "05.1").random() == expected_draw
    assert edition_tag("first class secret") != edition_tag("second class secret")
    with pytest.raises(ValueError, match="secret"):
        edition_tag("short")


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_edition_notebook_hides_the_secret_and_records_answers_only(chapter, capsys):
    secret = SECRETS[0]
    nb = edition_notebook(exercise_notebook(chapter), chapter, secret)
    text = nbformat.writes(nb)
    assert secret not in text
    assert nb.metadata["abteach"]["edition"] == edition_tag(secret)
    checks = [c.source for c in nb.cells if c.cell_type == "code" and "check(" in c.source]
    assert checks and all(f'edition="{edition_tag(secret)}")' in source for source in checks)
    from abteach.course.check import check

    check(f"{chapter:02d}.1", 0.5, edition=edition_tag(secret))
    check(f"{chapter:02d}.1", ..., edition=edition_tag(secret))
    out = capsys.readouterr().out.splitlines()
    assert "answer recorded" in out[0] and "not answered yet" in out[1]


def test_chapters_without_editions_say_so():
    without = next(chapter for chapter in range(1, 17) if chapter not in CHAPTERS)
    assert all(has_editions(chapter) for chapter in CHAPTERS) and not has_editions(without)
    with pytest.raises(ValueError, match="no class editions"):
        edition_inputs(without, SECRETS[0])


def test_the_command_writes_an_edition(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert exercises_main(["--edition", SECRETS[0], "--chapter", "5", "--out", str(tmp_path)]) == 0
    written = read(tmp_path / "05_analysis.ipynb")
    assert written.metadata["abteach"]["edition"] == edition_tag(SECRETS[0])
