"""The README and docs/: a short README with a table of contents, links that resolve, files and commands that exist."""

import re
import shlex
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from registry_credentials.cli.main import build_parser

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "components" / "registry_credentials"
PAGES = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").glob("*.md")),
         *sorted((ROOT / "examples").glob("*/README.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")
CODE = re.compile(r"`([^`\s]+)`")
# Top-level folders of the repository and of the package: a backticked path starting with one must exist.
FOLDERS = ("components/", "tests/", "bench/", "examples/", "provider/", "scripts/", "docs/", "stacks/", ".ci/",
           *(f"{p.name}/" for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__"))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lowercase, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", ""))
    return text.replace(" ", "-")


def anchors(page: Path) -> List[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.S)
    return [slug(line.lstrip("#")) for line in text.splitlines() if line.startswith("#")]


def links(page: Path) -> Iterator[Tuple[str, str]]:
    for target in LINK.findall(page.read_text()):
        if not target.startswith(("http://", "https://")):
            yield target.partition("#")[::2]


def test_the_readme_is_short_and_opens_with_a_table_of_contents():
    readme = ROOT / "README.md"
    assert len(readme.read_bytes()) < 12 * 1024
    contents = readme.read_text().split("\n## ", 1)[0]
    listed = [anchor for path, anchor in links(readme) if not path and f"(#{anchor})" in contents]
    assert listed and set(listed) <= set(anchors(readme))
    assert {slug(h) for h in re.findall(r"^## (.+)$", readme.read_text(), re.M)} == set(listed)


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_link_resolves(page):
    for path, anchor in links(page):
        target = (page.parent / path).resolve() if path else page
        assert target.exists(), f"{page.name}: {path} does not exist"
        if anchor:
            assert anchor in anchors(target), f"{page.name}: no heading #{anchor} in {target.name}"


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_every_file_named_is_in_the_repository(page):
    for token in CODE.findall(page.read_text()):
        path = token.split(":")[0].rstrip(".,")
        generated = "venv" in path.split("/")  # made by scripts/test or the language host, never committed
        if "/" in path and path.startswith(FOLDERS) and not generated and not any(c in path for c in "<>{}*$"):
            assert (ROOT / path).exists() or (PACKAGE / path).exists(), f"{page.name}: {path} is not in the repository"


def commands() -> Iterator[Tuple[str, List[str]]]:
    """Every documented run of the command (`registry-credentials ...`, `python -m registry_credentials ...`) and of
    a script (`bash scripts/...`), as (page, words after the command)."""
    for page in PAGES:
        for block in re.findall(r"```(?:bash|sh)\n(.*?)```", page.read_text(), re.S):
            for line in block.splitlines():
                command = line.split(" #")[0].split("&&")[0].strip()
                words = shlex.split(command.split("|")[-1]) if command else []
                if words and Path(words[0]).name == "registry-credentials":
                    yield page.name, words[1:]
                elif "-m" in words and "registry_credentials" in words:
                    yield page.name, words[words.index("registry_credentials") + 1:]
                elif command.startswith("bash "):
                    yield page.name, shlex.split(command)


def test_every_documented_command_exists_with_its_flags():
    found = list(commands())
    assert len([c for _, c in found if c[0] != "bash"]) >= 5
    for page, words in found:
        if words[0] == "bash":
            assert (ROOT / words[1]).is_file(), f"{page}: {words[1]} does not exist"
        else:
            build_parser().parse_args(words)  # argparse exits on an unknown command or flag
