"""The documentation holds together: every relative link resolves, and the README fits on a few screens.

Checked in README.md, ARCHITECTURE.md and docs/*.md: markdown links and image paths that are not URLs must
name a file or directory inside the repository, and a `#anchor` must name a heading of its target, slugged
as GitHub does it. Links inside code (fenced blocks, `inline code`) are text, not links.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path
from urllib.parse import unquote

import pytest

ROOT = Path(__file__).resolve().parent.parent
README_MAX_LINES = 150

# `[text](target)` and `![alt](target)`; the target may be `<…>` and may carry a "title".
LINK = re.compile(r"!?\[(?:[^\]\[]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^\s*(```|~~~)")
CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)+?\1")
HEADING = re.compile(r"^ {0,3}(#{1,6})\s+(.*?)\s*#*\s*$")


def doc_files() -> list[Path]:
    return [ROOT / "README.md", ROOT / "ARCHITECTURE.md", *sorted((ROOT / "docs").glob("*.md"))]


def prose_lines(text: str) -> list[tuple[int, str]]:
    """(line number, line) outside fenced code blocks, inline code spans blanked."""
    out: list[tuple[int, str]] = []
    fenced = False
    for number, line in enumerate(text.splitlines(), 1):
        if FENCE.match(line):
            fenced = not fenced
            continue
        if not fenced:
            out.append((number, CODE_SPAN.sub("", line)))
    return out


def github_slug(heading: str) -> str:
    """GitHub's anchor for a heading: its plain text lowercased, punctuation and symbols dropped
    (hyphens and underscores kept), spaces made hyphens (github-slugger)."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", heading)  # a link reads as its text
    text = text.replace("`", "").replace("*", "")
    kept = (c for c in text.lower() if c in " -_" or unicodedata.category(c)[0] in "LNM")
    return "".join(kept).replace(" ", "-")


def anchors(path: Path) -> set[str]:
    """The headings' slugs, from the raw headings (inline code counts), a repeated one numbered as GitHub does."""
    seen: dict[str, int] = {}
    fenced = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if FENCE.match(line):
            fenced = not fenced
            continue
        match = None if fenced else HEADING.match(line)
        if match:
            slug = github_slug(match.group(2))
            count = seen.get(slug, 0)
            seen[slug] = count + 1
            if count:  # the second "Usage" is #usage-1
                seen[f"{slug}-{count}"] = 1
    return set(seen)


def links(path: Path) -> list[tuple[int, str]]:
    found: list[tuple[int, str]] = []
    for number, line in prose_lines(path.read_text(encoding="utf-8")):
        for match in LINK.finditer(line):
            found.append((number, match.group(1).strip("<>")))
    return found


def broken_links(path: Path) -> list[str]:
    problems: list[str] = []
    for number, target in links(path):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):  # https:, mailto: … are not files here
            continue
        where = f"{path.relative_to(ROOT)}:{number}: {target}"
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / unquote(file_part)).resolve() if file_part else path
        if not dest.is_relative_to(ROOT):
            problems.append(f"{where}: outside the repository")
        elif not dest.exists():
            problems.append(f"{where}: no such file")
        elif anchor and (dest.suffix != ".md" or anchor not in anchors(dest)):
            problems.append(f"{where}: no heading #{anchor} in {dest.relative_to(ROOT)}")
    return problems


@pytest.mark.parametrize("path", doc_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves(path: Path) -> None:
    problems = broken_links(path)
    assert not problems, "\n".join(problems)


def test_the_readme_fits_in_150_lines() -> None:
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert len(lines) <= README_MAX_LINES


def test_every_docs_page_is_linked_from_the_readme() -> None:
    linked = {
        (ROOT / unquote(target.partition("#")[0])).resolve()
        for _, target in links(ROOT / "README.md")
        if target.startswith("docs/")
    }
    pages = set((ROOT / "docs").glob("*.md"))
    assert pages, "docs/ holds the pages the README links to"
    assert sorted(p.name for p in pages - linked) == []


def test_the_checker_sees_what_github_does(tmp_path: Path) -> None:
    """The slug rules and the code-block exclusion, on the headings this repository actually uses."""
    assert github_slug("The Spike watch pane (`2`)") == "the-spike-watch-pane-2"
    assert github_slug("What `--input` accepts, and what you see") == "what---input-accepts-and-what-you-see"
    assert github_slug("Where people look: a tmux status bar — a browser") == (
        "where-people-look-a-tmux-status-bar--a-browser"
    )
    assert github_slug('Investigation presets and "copy as"') == "investigation-presets-and-copy-as"
    page = tmp_path / "p.md"
    page.write_text("# A\n## A\n```sh\n# not a heading [x](nowhere.md)\n```\n`[y](nowhere.md)`\n")
    assert anchors(page) == {"a", "a-1"}
    assert links(page) == []
