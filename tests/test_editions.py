"""Class editions: the public edition is the published notebook, editions differ from it and from
each other, each edition's key accepts its own answers and refuses the published ones."""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from importlib import import_module

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

CHAPTERS = list(range(1, 17))
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
    the published letter is wrong; a True/False exercise wants a letter, so the published True or
    False earns nothing either: pasted in, the published solutions score 0."""
    public = {ex.id: expected(ex) for ex in exercises_for(chapter)}
    for ex in edition_exercises(chapter, secret):
        own = expected(ex)
        if isinstance(own, float):
            assert math.isfinite(own)
        assert ex.evaluate(own).status == CORRECT, ex.id
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


def test_every_chapter_has_editions_and_a_key_without_inputs_says_so(monkeypatch):
    assert all(has_editions(chapter) for chapter in CHAPTERS)
    from abteach.course.answers import ch03

    monkeypatch.delattr(ch03, "PUBLIC_INPUTS")
    assert not has_editions(3)
    with pytest.raises(ValueError, match="chapter 3 has no class editions"):
        edition_inputs(3, SECRETS[0])


def test_the_command_writes_an_edition(tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    assert exercises_main(["--edition", SECRETS[0], "--chapter", "5", "--out", str(tmp_path)]) == 0
    written = read(tmp_path / "05_analysis.ipynb")
    assert written.metadata["abteach"]["edition"] == edition_tag(SECRETS[0])


def _guide_ids(text: str, start: str, end: str) -> list[str]:
    """The exercise ids written in ``text`` between ``start`` and the next ``end``."""
    first = text.index(start)
    return re.findall(r"\b(\d\d\.\d+)\b", text[first: text.index(end, first)])


def test_the_instructor_guide_lists_what_stays_the_same():
    """The guide's lists of fixed (multiple-choice) and True/False exercises are the keys' own;
    those it says keep their answer keep it in the public edition and three class editions."""
    guide = (ROOT / "book" / "instructor_guide.md").read_text()
    keys = [ex for chapter in CHAPTERS for ex in exercises_for(chapter)]
    assert _guide_ids(guide, "- **Multiple choice**", "An edition") == [ex.id for ex in keys if ex.fixed]
    varying = _guide_ids(guide, "- **True/False**", "vary their inputs")
    constant = _guide_ids(guide, "vary their inputs", "have the same answer")
    assert sorted(varying + constant) == [ex.id for ex in keys if type(ex.answer).__name__ == "Boolean"]
    for exercise_id in constant:
        chapter = int(exercise_id[:2])
        module = import_module(f"abteach.course.answers.ch{chapter:02d}")
        answers = {bool(expected(next(ex for ex in module.exercises(edition_inputs(chapter, secret))
                                      if ex.id == exercise_id)))
                   for secret in [None, *SECRETS]}
        assert len(answers) == 1, exercise_id


@pytest.mark.parametrize("chapter", [1, 3, 6, 7, 10, 11, 12, 13, 14, 16])
def test_true_false_becomes_a_choice_of_letters_that_tells_the_truth(chapter):
    """In an edition a True/False question lists True and False as a. and b. in the edition's
    order; the key's letter is the one shown next to the truth of the edition's own inputs."""
    from abteach.course.editions import TRUE_FALSE

    module = import_module(f"abteach.course.answers.ch{chapter:02d}")
    for secret in SECRETS:
        truth = {ex.id: bool(expected(ex)) for ex in module.exercises(edition_inputs(chapter, secret))
                 if type(ex.answer).__name__ == "Boolean"}
        assert truth
        nb = edition_notebook(exercise_notebook(chapter), chapter, secret)
        key = {ex.id: ex for ex in edition_exercises(chapter, secret)}
        for exercise_id, right in truth.items():
            cell = next(c.source for c in nb.cells if f"Exercise {exercise_id}:" in c.source)
            assert not TRUE_FALSE.search(cell) and 'Store the letter of your answer (`"a"` or `"b"`)' in cell
            shown = dict(re.findall(r"^- ([ab])\. (True|False)$", cell, flags=re.MULTILINE))
            assert sorted(shown.values()) == ["False", "True"]
            letter = key[exercise_id].answer.expected
            assert shown[letter] == str(right)
            assert key[exercise_id].evaluate(letter).status == CORRECT
            other = "b" if letter == "a" else "a"
            wrong = key[exercise_id].evaluate(other)
            assert wrong.status != CORRECT and len(wrong.message) > 30  # the Boolean's hint
            assert "(a string), got bool" in key[exercise_id].evaluate(right).message


def test_the_command_outside_the_repository_needs_the_notebooks_folder(tmp_path, monkeypatch, capsys):
    """An instructor who installed the package has no exercises/: a clear error, or --from."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as stop:
        exercises_main(["--edition", SECRETS[0], "--chapter", "3", "--out", str(tmp_path / "class")])
    assert stop.value.code == 2
    assert "--from FOLDER" in capsys.readouterr().err
    assert exercises_main(["--edition", SECRETS[0], "--chapter", "3", "--out", str(tmp_path / "class"),
                           "--from", str(ROOT / "exercises")]) == 0
    assert read(tmp_path / "class" / "03_assignment.ipynb").metadata["abteach"]["edition"] == edition_tag(SECRETS[0])
    with pytest.raises(SystemExit):
        exercises_main(["--edition", SECRETS[0], "--chapter", "3", "--from", str(tmp_path)])
    assert "no exercise notebook (03_*.ipynb)" in capsys.readouterr().err
