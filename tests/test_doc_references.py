"""Every reference to a document resolves: `docs/<file>.md`, `docs/<file>.md#anchor` and `docs/<file>.md §N`
anywhere in code, tests and docs, and relative Markdown links between documents, name a file that exists and a
heading it has. A clone holds only what is in the repository, so the specifications the project started from
outside it may not be cited: their content lives in docs/ (contract, interfaces, architecture, decisions)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

SKIPPED_DIRS = frozenset(
    ".git .venv venv target logs dbt_packages node_modules __pycache__ .njia .pytest_cache .ruff_cache "
    ".hypothesis build dist".split()
)
TEXT_SUFFIXES = frozenset(".py .sql .yml .yaml .md .j2 .json .toml .cfg .ini .txt .html .sh .example".split())
TEXT_NAMES = frozenset("Makefile Dockerfile run .airflowignore .gitignore".split())
# This file's own examples are broken on purpose. Applied migrations are never edited (their checksums are
# recorded in ops.schema_migrations, and `njia init` refuses a changed one), so their first comment lines
# keep the names the specifications had when they were applied: docs/contract.md and docs/interfaces.md.
SKIPPED_FILES = frozenset(
    {
        "tests/test_doc_references.py",
        "njia/migrations/001_schemas.sql",
        "njia/migrations/002_ledger.sql",
        "njia/migrations/020_bi_access.sql",
    }
)
MAX_BYTES = 2_000_000
MAX_RANGE = 50  # sections a `§a-b` range may name in between (a typo must not cost a million checks)

# Written so that this file does not cite them itself.
_OUTSIDE = ("CONTRACT", "INTERFACES", "STACK-NOTES", "ARCHITECTURE", "STYLE")
OUTSIDE_SPEC = re.compile(r"\b(?:" + "|".join(re.escape(n) for n in _OUTSIDE) + r")\.md\b")

_NUMBER = r"\d+(?:\.\d+)*"
DOC_REFERENCE = re.compile(
    # After the start of a line, a space, punctuation or `../`: not inside a URL or another folder's path.
    r"(?:^|(?<=[\s(\[<`\"',:;=*])|(?<=\.\./))docs/(?P<file>[\w.-]+(?:/[\w.-]+)*\.md)"
    r"(?:#(?P<anchor>[\w-]+))?"
    r"(?P<sections>\s*§\s*" + _NUMBER + r"(?:\s*(?:,|and|&)\s*§\s*" + _NUMBER + r"|\s*[-–]\s*§?\s*" + _NUMBER + r")*)?"
)
SECTION_NUMBER = re.compile(_NUMBER)
MARKDOWN_LINK = re.compile(r"\[[^\]\n]*\]\((?P<target>[^)\s]+)\)")
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
NUMBERED = re.compile(r"^(" + _NUMBER + r")\.?(?:\s|$)")
FENCE = re.compile(r"^\s*(```|~~~)")


@dataclass(frozen=True)
class Headings:
    anchors: frozenset[str]
    numbers: frozenset[str]


def slug(text: str) -> str:
    """The anchor GitHub gives a heading: inline markup dropped, lower case, punctuation removed, spaces as `-`."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", text)  # a link keeps its text
    text = text.replace("`", "").strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def headings(path: Path) -> Headings:
    anchors: list[str] = []
    numbers: set[str] = set()
    seen: dict[str, int] = {}
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        if fenced or not (m := HEADING.match(line)):
            continue
        text = m.group(2)
        base = slug(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        anchors.append(base if count == 0 else f"{base}-{count}")
        if n := NUMBERED.match(text):
            numbers.add(n.group(1))
    return Headings(frozenset(anchors), frozenset(numbers))


def text_files(root: Path) -> list[Path]:
    """The project's text files, without descending into virtualenvs, git's store or build output."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(files):
            path = Path(folder) / name
            if path.relative_to(root).as_posix() in SKIPPED_FILES:
                continue
            if path.suffix not in TEXT_SUFFIXES and name not in TEXT_NAMES:
                continue
            if not path.is_file() or path.stat().st_size > MAX_BYTES:
                continue
            found.append(path)
    return found


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


def _sections(text: str | None) -> list[str]:
    """Every section number a `§` list names; `§2-4` names 2, 3 and 4."""
    if not text:
        return []
    out: list[str] = []
    parts = re.split(r"\s*[-–]\s*§?\s*", text.strip())
    for i, part in enumerate(parts):
        numbers = SECTION_NUMBER.findall(part)
        if i > 0 and numbers and "." not in numbers[0] and out and "." not in out[-1]:
            start, end = int(out[-1]) + 1, int(numbers[0])
            out.extend(str(n) for n in range(start, min(end, start + MAX_RANGE)))  # the range between
        out.extend(numbers)
    return out


class _Documents:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._cache: dict[Path, Headings | None] = {}

    def get(self, path: Path) -> Headings | None:
        path = path.resolve()
        if path not in self._cache:
            self._cache[path] = headings(path) if path.is_file() else None
        return self._cache[path]


def _check(
    where: str, target: Path, label: str, anchor: str | None, sections: list[str], docs: _Documents
) -> list[str]:
    found = docs.get(target)
    if found is None:
        return [f"{where}: {label} does not exist"]
    problems = []
    if anchor and anchor.lower() not in found.anchors:
        problems.append(f"{where}: {label} has no heading with the anchor #{anchor}")
    for number in sections:
        if number not in found.numbers:
            problems.append(f"{where}: {label} has no section {number} (no heading numbered {number})")
    return problems


def broken_references(root: Path) -> list[str]:
    """`docs/...` references and relative Markdown links that name a missing file, anchor or section."""
    docs = _Documents(root)
    problems: list[str] = []
    for path, where, line in _lines(root):
        for m in DOC_REFERENCE.finditer(line):
            problems += _check(
                where, root / "docs" / m["file"], f"docs/{m['file']}", m["anchor"], _sections(m["sections"]), docs
            )
        if path.suffix != ".md":
            continue
        for m in MARKDOWN_LINK.finditer(line):
            target = m["target"]
            if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.IGNORECASE):  # http:, mailto:, ...
                continue
            file_part, _, anchor = target.partition("#")
            if file_part and not file_part.endswith(".md"):
                continue
            linked = ((path.parent / file_part) if file_part else path).resolve()
            label = (
                linked.relative_to(root.resolve()).as_posix() if linked.is_relative_to(root.resolve()) else file_part
            )
            problems += _check(where, linked, label, anchor or None, [], docs)
    return list(dict.fromkeys(problems))  # a link's target may also be a `docs/` reference


def outside_references(root: Path) -> list[str]:
    """Lines that cite a specification file the repository does not contain."""
    return [
        f"{where}: {m.group(0)} is not in the repository; cite docs/ instead"
        for _, where, line in _lines(root)
        for m in OUTSIDE_SPEC.finditer(line)
    ]


def _lines(root: Path) -> Iterator[tuple[Path, str, str]]:
    """(file, `path:line` as messages show it, the line's text) for every line of every text file."""
    for path in text_files(root):
        text = _read(path)
        if text is None:
            continue
        rel = path.relative_to(root).as_posix()
        for number, line in enumerate(text.splitlines(), start=1):
            yield path, f"{rel}:{number}", line


# --- the repository -------------------------------------------------------------------------------------------


def test_references_to_docs_resolve() -> None:
    problems = broken_references(ROOT)
    assert not problems, "references to documents that do not exist:\n" + "\n".join(problems)


def test_no_reference_to_specifications_outside_the_repository() -> None:
    problems = outside_references(ROOT)
    assert not problems, (
        f"{len(problems)} references to files a clone does not contain "
        "(cite the section of docs/contract.md, docs/interfaces.md, docs/architecture.md or docs/decisions.md):\n"
        + "\n".join(problems)
    )


@pytest.mark.parametrize("name", ["contract.md", "interfaces.md", "architecture.md", "decisions.md"])
def test_the_specifications_are_in_the_repository(name: str) -> None:
    found = headings(ROOT / "docs" / name)
    assert found.numbers, f"docs/{name} has no numbered sections to cite"


def test_contract_sections_keep_their_numbers() -> None:
    # Code and tests cite these numbers; renumbering would silently point them elsewhere.
    numbers = headings(ROOT / "docs" / "contract.md").numbers
    assert {"1", "2", "3", "4", "5", "6", "7", "8"} <= numbers
    assert {"2.4", "3.1", "4.2", "4.3", "8.2"} <= numbers


# --- the checker itself, on a small tree ----------------------------------------------------------------------


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "guide.md").write_text(
        "# Guide\n\n## 1. Delivery\n\n### 1.2 Late files\n\n## 2. `Columns` and codes\n\n"
        "```\n## 9. Not a heading\n```\n\n## 3. Notes\n\n## 3. Notes\n\nSee [codes](#2-columns-and-codes).\n",
        encoding="utf-8",
    )
    return tmp_path


def _code(tree: Path, text: str, name: str = "mod.py") -> list[str]:
    (tree / name).write_text(text, encoding="utf-8")
    return broken_references(tree)


def test_checker_accepts_what_exists(tree: Path) -> None:
    assert (
        _code(
            tree,
            '"""docs/guide.md §1, docs/guide.md §1.2 and §2, docs/guide.md §1-3; docs/guide.md."""\n'
            "# docs/guide.md#3-notes-1 docs/guide.md#2-columns-and-codes (docs/guide.md §2.)\n",
        )
        == []
    )


@pytest.mark.parametrize(
    "text, problem",
    [
        ("# docs/missing.md\n", "docs/missing.md does not exist"),
        ("# docs/guide.md §4\n", "no section 4"),
        ("# docs/guide.md §1.3\n", "no section 1.3"),
        ("# docs/guide.md §1 and §7\n", "no section 7"),
        ("# docs/guide.md §1-4\n", "no section 4"),
        ("# docs/guide.md §9\n", "no section 9"),  # a heading inside a fenced block is not a heading
        ("# docs/guide.md#no-such-heading\n", "#no-such-heading"),
        ("# docs/guide.md#3-notes-2\n", "#3-notes-2"),
    ],
)
def test_checker_finds_a_broken_reference(tree: Path, text: str, problem: str) -> None:
    problems = _code(tree, text)
    assert len(problems) == 1 and problem in problems[0] and problems[0].startswith("mod.py:1:"), problems


def test_checker_ignores_urls_and_other_folders(tree: Path) -> None:
    assert _code(tree, "# https://example.org/docs/missing.md bench/docs/missing.md mydocs/missing.md\n") == []
    assert len(_code(tree, "# see ../docs/missing.md\n")) == 1


def test_checker_bounds_a_section_range(tree: Path) -> None:
    assert _sections("§1-999999999") == ["1", *map(str, range(2, 2 + MAX_RANGE)), "999999999"]
    assert "no section 999999999" in _code(tree, "# docs/guide.md §1-999999999\n")[-1]


def test_checker_follows_markdown_links(tree: Path) -> None:
    assert _code(tree, "[ok](docs/guide.md#1-delivery) [web](https://example.org/x.md#y)\n", "README.md") == []
    problems = _code(tree, "[a](docs/guide.md#nowhere) [b](docs/gone.md) [c](#also-nowhere)\n", "README.md")
    assert [p.split(": ", 1)[1] for p in problems] == [
        "docs/guide.md has no heading with the anchor #nowhere",
        "docs/gone.md does not exist",
        "README.md has no heading with the anchor #also-nowhere",
    ]


def test_checker_skips_what_is_not_the_project(tree: Path) -> None:
    for folder in (".venv", ".git", "dbt_project/target"):
        (tree / folder).mkdir(parents=True)
        (tree / folder / "x.py").write_text("# docs/missing.md " + "CONTRACT" + ".md\n", encoding="utf-8")
    assert broken_references(tree) == [] and outside_references(tree) == []


def test_outside_specifications_are_found(tree: Path) -> None:
    name = "INTERFACES" + ".md"
    (tree / "a.sql").write_text(f"-- the schemas ({name}, Warehouse)\n", encoding="utf-8")
    (tree / "b.py").write_text(
        '"""MESSY_STYLE is a name, not a file; docs/interfaces.md is ours."""\n', encoding="utf-8"
    )
    assert outside_references(tree) == [f"a.sql:1: {name} is not in the repository; cite docs/ instead"]
