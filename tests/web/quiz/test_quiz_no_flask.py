"""web.quiz is usable without Flask: importing all of it loads no Flask module."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import web.quiz


def test_web_quiz_imports_nothing_of_flask():
    modules = [f"web.quiz.{m.name}" for m in pkgutil.iter_modules(web.quiz.__path__)]
    assert {"web.quiz.gift", "web.quiz.engine", "web.quiz.stats", "web.quiz.cli"} <= set(modules)
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('flask', 'werkzeug',"
        " 'flask_sqlalchemy', 'flask_babel', 'jinja2'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "", f"Flask modules imported by web.quiz: {out.stdout}"
