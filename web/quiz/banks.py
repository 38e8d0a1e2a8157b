"""A course's question banks: `quizzes/<module>.<lang>.gift`, one pool per module and language.

Each file holds one `$CATEGORY: $course$/top/<course>/<module>`; the English and French files
of a module hold the same question ids, so an attempt drawn in one language can be shown,
scored and counted in the statistics in the other.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from web.quiz.gift import GiftError, load_gift
from web.quiz.model import Bank, Question

LANGUAGES = ("en", "fr")
BANK_FILE = re.compile(r"^(?P<module>[a-z0-9][a-z0-9-]*)\.(?P<lang>[a-z]{2})\.gift$")


def category_for(course_id: str, module: str) -> str:
    """The `$CATEGORY` a module's bank must declare."""
    return f"$course$/top/{course_id}/{module}"


@dataclass
class CourseBanks:
    """Parsed banks keyed by (module, language), and the problems met while reading them."""

    root: Path
    banks: dict[tuple[str, str], Bank] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    unreadable: set[tuple[str, str]] = field(default_factory=set)  # (module, lang) not parsed

    @property
    def modules(self) -> set[str]:
        """Modules with at least one bank."""
        return {m for m, _ in self.banks}

    def pool(self, module: str, lang: str = "en") -> tuple[Question, ...]:
        """The questions of a module's bank in `lang` (English when that language is missing)."""
        bank = self.banks.get((module, lang)) or self.banks.get((module, "en"))
        return bank.questions if bank else ()

    def question(self, question_id: str, lang: str = "en") -> Question | None:
        """A question by id in `lang`, falling back to English."""
        for want in (lang, "en"):
            for (_, bank_lang), bank in self.banks.items():
                if bank_lang == want:
                    q = bank.by_id().get(question_id)
                    if q is not None:
                        return q
        return None

    def index(self, lang: str = "en") -> dict[str, Question]:
        """Every question of the course in `lang` by id (English where `lang` lacks it)."""
        out: dict[str, Question] = {}
        for want in ("en", lang):
            for (_, bank_lang), bank in sorted(self.banks.items()):
                if bank_lang == want:
                    out.update(bank.by_id())
        return out


def load_banks(course_dir: Path) -> CourseBanks:
    """Parse every bank under `course_dir/quizzes`; unreadable ones are listed in `problems`."""
    result = CourseBanks(root=course_dir)
    folder = course_dir / "quizzes"
    if not folder.is_dir():
        return result
    for path in sorted(folder.iterdir()):
        shown = f"quizzes/{path.name}"
        if path.suffix != ".gift" or path.is_dir():
            continue  # a README or notes beside the banks are not banks
        m = BANK_FILE.match(path.name)
        if not m:
            result.problems.append(f"{shown}: not named <module>.<en|fr>.gift")
            continue
        if m["lang"] not in LANGUAGES:
            result.problems.append(f"{shown}: language {m['lang']!r} is not one of en, fr")
            continue
        try:
            result.banks[(m["module"], m["lang"])] = load_gift(path, shown)
        except GiftError as exc:
            result.problems.extend(str(exc).splitlines())
            result.unreadable.add((m["module"], m["lang"]))
    return result
