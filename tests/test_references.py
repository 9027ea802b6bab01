"""The appendix pages: every source the chapters cite is in the references, the glossary links
only to pages that exist, and every command of the instructor guide exists as written."""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from functools import cache

import pytest

from abteach.course import grade
from conftest import ROOT, read

BOOK = ROOT / "book"
REFERENCES = BOOK / "references.md"
GLOSSARY = BOOK / "glossary.md"
GUIDE = BOOK / "instructor_guide.md"

# --- citations in the chapters -----------------------------------------------------------------

# A surname: "Kohavi", "O'Brien", "DeMets", "McPherson", "Holmström", or an acronym such as "NIST".
NAME = r"(?:[A-ZÀ-ÖØ-Þ](?:[^\W\d_]|['’])*[a-zß-öø-ÿ](?:[^\W\d_]|['’])*|[A-Z]{3,})"
# One or more surnames: "Kohavi, Tang & Xu", "Gelman and Carlin", "Benjamini-Hochberg", "Deng et al.";
# after the first, a surname may have two words ("Fabijan, Holmström Olsson & Bosch").
AUTHORS = rf"{NAME}(?:(?:, | and | & |-){NAME}(?: {NAME})?)*(?: et al\.)?"
YEAR = r"(?:19|20)\d\d"
# "Surname (Year)", "Surname et al. (Year, ch. 3)", "Benjamini & Hochberg's (1995)"
IN_TEXT = re.compile(rf"\b({AUTHORS})(?:'s|’s)? \(({YEAR}[a-z]?(?:[,;][^()]*)?)\)")
# "(Surname, Year)", "(Kohavi, Tang & Xu, 2020, ch. 21)", "...; Howard, Ramdas, McAuliffe & Sekhon, 2021)"
PARENTHETICAL = re.compile(rf"(?<![A-Za-z])({AUTHORS}), ({YEAR})\b")
# "(Kohavi, Tang & Xu 2020, ch. 3)", "..., Deng, Knoblich & Lu 2018)": no comma before the year
# (surnames only here: "KDD 2012" and "DSAA 2016" are venues)
NO_COMMA = re.compile(rf"(?:(?<=\()|(?<=; )|(?<=, ))(?![A-Z]{{3,}}\b)({AUTHORS}) ({YEAR})\b")
MONTHS = {"January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"}

# Software, documentation and data cited by name: each one a chapter mentions needs an entry.
SOFTWARE = [
    "power.prop.test", "power.t.test", "t.test", "prop.test", "binom.test", "chisq.test",
    "pwr", "G*Power", "gsDesign", "gsDesign2", "rpact", "ldbounds", "SAS", "GrowthBook",
    "Optimizely", "Amplitude", "Statsig", "Eppo", "MurmurHash", "FNV", "DuckDB", "PYTHONHASHSEED",
    "Wikipedia", "SciPy", "statsmodels", "Evan Miller", "MineThatData", "Criteo", "scikit-uplift",
    "CausalML", "EconML", "nbgrader", "otter-grader", "spotify-confidence", "NIST",
]


@cache
def chapter_text(path) -> str:
    """The markdown and code of a notebook, whitespace collapsed (citations break across lines)."""
    nb = read(path)
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type in ("markdown", "code"))
    return " ".join(text.split())


def cited_notebooks():
    """Every chapter, solution and appendix notebook of the book."""
    return sorted(BOOK.glob("*.ipynb")) + sorted((ROOT / "solutions").glob("*.ipynb"))


def _surnames(authors: str) -> tuple[str, ...]:
    et_al = authors.endswith(" et al.")
    names = re.findall(NAME, authors.removesuffix(" et al."))
    return tuple(re.sub(r"['’]s$", "", name) for name in names) + (("et al.",) if et_al else ())


def citations(text: str) -> set[tuple[tuple[str, ...], str]]:
    """(surnames, year) for every citation in ``text``; "et al." is kept as the last surname."""
    text = " ".join(text.split())
    found = set()
    for match in IN_TEXT.finditer(text):
        for year in re.findall(rf"\b{YEAR}\b", match.group(2)):
            found.add((_surnames(match.group(1)), year))
    for pattern in (PARENTHETICAL, NO_COMMA):
        for match in pattern.finditer(text):
            if match.group(1) not in MONTHS:
                found.add((_surnames(match.group(1)), match.group(2)))
    return found


def listed_references(text: str) -> set[tuple[tuple[str, ...], str]]:
    """(surnames, year) of every entry "Surname, I., ... (Year)" of a notebook's reference list."""
    found = set()
    for section in re.findall(r"^#+ (?:References|Sources|Further reading)\b(.*?)(?=^#+ |\Z)", text, flags=re.M | re.S):
        for item in re.split(r"^\s*[-*] ", section, flags=re.M)[1:]:
            match = re.match(rf"(.*?) \(({YEAR})[a-z]?\)", " ".join(item.split()))
            if match and len(match.group(1)) < 300:
                found.add((_surnames(match.group(1)), match.group(2)))
    return found


@cache
def reference_entries() -> dict[str, str]:
    """label -> text of every entry of the references page (a ``(label)=`` line, then a paragraph)."""
    entries, label, lines = {}, None, []
    for line in REFERENCES.read_text().splitlines() + [""]:
        target = re.fullmatch(r"\((ref-[a-z0-9-]+)\)=", line.strip())
        if target:
            label, lines = target.group(1), []
            assert label not in entries, f"label {label} is used twice"
        elif label and line.strip():
            lines.append(line.strip())
        elif label and lines:
            entries[label], label = " ".join(lines), None
    return entries


def entry_authors(entry: str) -> tuple[str, str] | None:
    """(author list, year) of an entry that starts "Surname, I., ... (Year).", else None."""
    match = re.match(rf"(.*?) \(({YEAR})[a-z]?\)\.", entry)
    return (match.group(1), match.group(2)) if match else None


def has_entry(surnames: tuple[str, ...], year: str) -> bool:
    """An entry of ``year`` whose first author is the first cited surname and that names the others."""
    wanted = [name for name in surnames if name != "et al."]
    for entry in reference_entries().values():
        parsed = entry_authors(entry)
        if parsed is None or parsed[1] != year:
            continue
        authors = parsed[0]
        if re.match(NAME, authors) and re.match(NAME, authors).group(0) == wanted[0]:
            if all(re.search(rf"\b{re.escape(name)}\b", authors) for name in wanted):
                return True
    return False


@pytest.mark.parametrize(
    "text, expected",
    [
        ("as Kohavi, Tang & Xu (2020, ch. 21) say", {(("Kohavi", "Tang", "Xu"), "2020")}),
        ("the rule (Kohavi, Tang & Xu, 2020, ch. 17).", {(("Kohavi", "Tang", "Xu"), "2020")}),
        ("Benjamini & Hochberg's (1995) example", {(("Benjamini", "Hochberg"), "1995")}),
        ("**Benjamini-Hochberg (1995): step-up", {(("Benjamini", "Hochberg"), "1995")}),
        ("Deng et al. (2013, section 3.2) put it", {(("Deng", "et al."), "2013")}),
        ("Gelman and Carlin (2014) call", {(("Gelman", "Carlin"), "2014")}),
        ("Johari, Koomen, Pekelis & Walsh (2017, 2022) built",
         {(("Johari", "Koomen", "Pekelis", "Walsh"), "2017"), (("Johari", "Koomen", "Pekelis", "Walsh"), "2022")}),
        ("(Robbins, 1970; Howard, Ramdas, McAuliffe &\nSekhon, 2021).",
         {(("Robbins",), "1970"), (("Howard", "Ramdas", "McAuliffe", "Sekhon"), "2021")}),
        ("Hohnhold, O'Brien & Tang (2015) ran", {(("Hohnhold", "O'Brien", "Tang"), "2015")}),
        ("G*Power 3 (Faul et al., 2007) output", {(("Faul", "et al."), "2007")}),
        ("NIST (2015). FIPS 180-4", {(("NIST",), "2015")}),
        ("Fabijan, Dmitriev, Holmström Olsson & Bosch (2018) list",
         {(("Fabijan", "Dmitriev", "Holmström", "Olsson", "Bosch"), "2018")}),
        ("In Kevin Hillstrom (2008), e-mails", {(("Hillstrom",), "2008")}),
        ("stop is biased (Jennison & Turnbull 2000, ch. 8), and", {(("Jennison", "Turnbull"), "2000")}),
        ("(chapter 5, Deng, Knoblich & Lu 2018): the", {(("Deng", "Knoblich", "Lu"), "2018")}),
        ("MineThatData blog, March 2008. In 2008 Kevin", set()),
        ("Cohen's h, KDD 2012, the 2020 edition, a test (2008), Table 2.1 (1995)", set()),
    ],
)
def test_the_citation_pattern_finds_every_form_the_chapters_use(text, expected):
    assert citations(text) == expected


def test_a_citation_without_an_entry_is_reported():
    assert has_entry(("Kohavi", "Tang", "Xu"), "2020")
    assert has_entry(("Deng", "et al."), "2013")
    assert not has_entry(("Kohavi", "Tang", "Xu"), "2019")  # wrong year
    assert not has_entry(("Tang", "Xu"), "2020")  # not the first author
    assert not has_entry(("Deng", "Hu", "Lu"), "2015")  # a co-author the entry does not list
    assert not has_entry(("Nobody",), "1999")


@pytest.mark.parametrize("path", cited_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_citation_of_a_notebook_has_a_reference_entry(path):
    missing = sorted(
        f"{' & '.join(names)} ({year})"
        for names, year in citations(chapter_text(path))
        if not has_entry(names, year)
    )
    assert not missing, f"{path.name} cites sources missing from book/references.md: {missing}"


@pytest.mark.parametrize("path", cited_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_entry_of_a_notebooks_reference_list_is_in_the_bibliography(path):
    text = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    missing = sorted(
        f"{' & '.join(names)} ({year})"
        for names, year in listed_references(text)
        if not has_entry(names, year)
    )
    assert not missing, f"{path.name} lists references missing from book/references.md: {missing}"


def test_reference_lists_of_the_chapters_are_read():
    text = "## References\n\n- Kohavi, R., Tang, D. & Xu, Y. (2020). *Trustworthy*.\n" \
           "- Colditz, G. A. et al. (1994). Efficacy.\n- DuckDB documentation.\n\n## Exercises\n- Holm (1979)"
    assert listed_references(text) == {(("Kohavi", "Tang", "Xu"), "2020"), (("Colditz", "et al."), "1994")}
    chapter_one = "\n".join(c.source for c in read(ROOT / "book" / "01_hypotheses.ipynb").cells)
    assert len(listed_references(chapter_one)) >= 5


@pytest.mark.parametrize("path", cited_notebooks(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_software_a_notebook_names_has_a_reference_entry(path):
    references = REFERENCES.read_text()
    text = chapter_text(path)
    missing = [
        name for name in SOFTWARE
        if re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", text, flags=re.IGNORECASE)
        and not re.search(rf"(?<![\w.]){re.escape(name)}(?!\w)", references, flags=re.IGNORECASE)
    ]
    assert not missing, f"{path.name} names {missing}, which book/references.md does not list"


def test_reference_entries_are_labelled_and_articles_sorted_by_author():
    entries = reference_entries()
    assert len(entries) >= 60
    text = REFERENCES.read_text()
    assert text.startswith("# Appendix B. References\n")
    # every paragraph of the lists is a labelled entry
    body = text.split("## Books and articles", 1)[1]
    paragraphs = [p for p in re.split(r"\n\s*\n", body) if p.strip() and not p.startswith("#")]
    assert all(p.lstrip().startswith("(ref-") for p in paragraphs), "an entry without a (ref-...)= label"
    articles = body.split("\n## ", 1)[0]
    keys = [  # (surnames in order, year): the usual order of a bibliography
        (re.findall(NAME, entry_authors(entries[label])[0]), entry_authors(entries[label])[1])
        for label in re.findall(r"\((ref-[a-z0-9-]+)\)=", articles)
    ]
    assert keys == sorted(keys), "the books and articles are not in alphabetical order of author"


# --- glossary ----------------------------------------------------------------------------------

GLOSSARY_TERMS = [
    "A/A test", "Alpha spending", "ATE", "CATE", "Benjamini-Hochberg procedure", "Bucket", "CUPED",
    "Delta method", "False discovery rate", "Family-wise error rate", "Guardrail metric",
    "Minimum detectable effect", "mSPRT", "Non-inferiority test", "Novelty effect",
    "Overall evaluation criterion", "Peeking", "Power", "p-value", "Qini curve",
    "Sample ratio mismatch", "Shrinkage", "Uplift",
]


@cache
def glossary_entries() -> dict[str, str]:
    """term -> definition, from the ``{glossary}`` directive (a term line, then indented lines)."""
    text = GLOSSARY.read_text()
    block = re.search(r"```\{glossary\}\n(.*?)\n```", text, flags=re.S)
    assert block, "no {glossary} directive in book/glossary.md"
    entries, term = {}, None
    for line in block.group(1).splitlines():
        if line.strip() and not line.startswith(" "):
            term = line.strip()
            assert term not in entries, f"glossary term {term!r} appears twice"
            entries[term] = ""
        elif term and line.strip():
            entries[term] += " " + line.strip()
    return entries


def test_glossary_defines_the_terms_of_the_course_in_order():
    entries = glossary_entries()
    assert GLOSSARY.read_text().startswith("# Appendix C. Glossary\n")
    missing = [t for t in GLOSSARY_TERMS if not any(t.lower() in term.lower() for term in entries)]
    assert not missing, f"glossary lacks {missing}"
    assert list(entries) == sorted(entries, key=str.lower), "glossary terms are not alphabetical"
    short = [term for term, text in entries.items() if len(text.split()) < 8]
    assert not short, f"definitions too short to help: {short}"


def test_glossary_links_point_to_pages_that_exist():
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", GLOSSARY.read_text())
    assert links, "the glossary links to no chapter"
    missing = [link for link in links if not (BOOK / link).resolve().exists()]
    assert not missing, f"glossary links to missing pages: {missing}"


def test_every_glossary_term_names_where_it_is_taught():
    entries = glossary_entries()
    without = [term for term, text in entries.items() if not re.search(r"\]\([^)]+\.(ipynb|md)", text)]
    assert not without, f"terms without a link to the page that teaches them: {without}"


# --- instructor guide --------------------------------------------------------------------------


def guide_text() -> str:
    return GUIDE.read_text()


def grader_help() -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), pytest.raises(SystemExit):
        grade.main(["--help"])
    return out.getvalue()


def test_guide_documents_every_grader_flag_and_only_real_ones():
    text, help_text = guide_text(), grader_help()
    real = set(re.findall(r"--[a-z][a-z-]+", help_text)) - {"--help"}
    named = set(re.findall(r"abteach-grade[^`\n]*", text))
    used = {flag for command in named for flag in re.findall(r"--[a-z][a-z-]+", command)}
    assert used <= real | {"--help"}, f"the guide uses flags the grader lacks: {used - real}"
    assert real <= set(re.findall(r"--[a-z][a-z-]+", text)), f"flags not documented: {real - used}"


def test_guide_states_the_graders_real_defaults_columns_and_statuses():
    text = guide_text()
    parser_defaults = re.findall(r"default (\d+ (?:s|GiB))", grader_help())
    assert len(parser_defaults) == 3 and all(d in text for d in parser_defaults), parser_defaults
    for column in ("student", "lms_id", "notebook", "sha256", "chapter", "edition", "total", "out_of",
                   "status", "reason", "sandbox"):
        assert f"`{column}`" in text, f"CSV column {column!r} is not described"
    source = (ROOT / "abteach" / "course" / "grade.py").read_text()
    for status in ("graded", "crashed", "timed out", "unreadable", "wrong chapter"):
        assert f'"{status}"' in source, f"the grader no longer has status {status!r}"
        assert f"`{status}`" in text, f"status {status!r} is not described"


def test_guide_make_targets_modules_and_files_exist():
    text = guide_text()
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([a-z]+):", makefile, flags=re.M))
    used = set(re.findall(r"`make ([a-z]+)`", text))
    assert used and used <= targets, f"make targets that do not exist: {used - targets}"
    for module in set(re.findall(r"python -m (abteach\.[a-z_.]+)", text)):
        path = ROOT / (module.replace(".", "/") + ".py")
        assert path.exists() and "def main(" in path.read_text(), f"{module} has no main()"
    for name in set(re.findall(r"`((?:abteach|tests|solutions|exercises|book)/[A-Za-z0-9_./]+\.(?:py|ipynb|md))`", text)):
        if "NN" not in name:
            assert (ROOT / name).exists(), f"the guide names {name}, which does not exist"
    scripts = (ROOT / "pyproject.toml").read_text()
    for script in set(re.findall(r"(?:`|bin/)(abteach-[a-z]+)\b", text)):
        assert f"{script} =" in scripts, f"console script {script} is not declared in pyproject.toml"


def test_guide_commands_parse_as_shell_commands():
    blocks = re.findall(r"```(?:bash|console|sh)\n(.*?)```", guide_text(), flags=re.S)
    assert blocks
    for block in blocks:
        for line in block.splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                shlex.split(line)
