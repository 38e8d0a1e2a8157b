"""The docs cannot silently fall behind: every CLI command and every setting is documented."""

from __future__ import annotations

import re
from pathlib import Path

import click

from web.cli import main

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
PACKAGES = ("sandbox_chain", "grader", "web")
SETTING = re.compile(r"\b(LUNE_[A-Z0-9_]+|DATABASE_URL|REDIS_URL)\b")


def _docs_text() -> str:
    return "\n".join(p.read_text() for p in DOCS.rglob("*.md"))


def _commands(group: click.Group, prefix: str = "lune"):
    for name, cmd in group.commands.items():
        path = f"{prefix} {name}"
        yield path, cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, path)


def test_every_cli_command_and_option_is_documented():
    text = _docs_text()
    missing = []
    for path, cmd in _commands(main):
        if f"`{path}" not in text:
            missing.append(path)
        for param in cmd.params:
            if isinstance(param, click.Option) and not param.hidden:
                longest = max(param.opts, key=len)
                if longest not in text:
                    missing.append(f"{path} {longest}")
    assert not missing, f"undocumented commands/options: {missing}"


def test_every_setting_is_documented():
    text = _docs_text()
    used = set()
    for pkg in PACKAGES:
        for src in (ROOT / pkg).rglob("*.py"):
            used.update(SETTING.findall(src.read_text()))
    missing = sorted(s for s in used if f"`{s}`" not in text)
    assert not missing, f"settings used in code but not in docs/: {missing}"


def test_mkdocs_nav_lists_every_page():
    nav = (ROOT / "mkdocs.yml").read_text()
    pages = sorted(p.relative_to(DOCS).as_posix() for p in DOCS.rglob("*.md"))
    unlisted = [p for p in pages if p not in nav]
    assert not unlisted, f"docs pages missing from mkdocs.yml nav: {unlisted}"
