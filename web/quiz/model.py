"""Questions as Moodle stores them after a GIFT import (question/format/gift/format.php).

The fields are the ones Moodle's importer fills in, so that what we score is what Moodle would
score: a multiple-choice answer keeps its own text format and a `fraction` (its weight, one of
Moodle's grade options, see `weights`), a short answer keeps only its text (Moodle drops the
format), a numerical answer is a value and a nominal tolerance, a matching pair with an empty
question is a distractor. Texts are trimmed as Moodle trims them (PHP `trim`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum


class Format(StrEnum):
    """Moodle's text formats, by the names GIFT writes between brackets (`[html]...`)."""

    MOODLE = "moodle"
    HTML = "html"
    PLAIN = "plain"
    MARKDOWN = "markdown"


class QType(StrEnum):
    """Moodle question types a GIFT file can hold (`qtype` after import)."""

    MULTICHOICE = "multichoice"
    TRUEFALSE = "truefalse"
    SHORTANSWER = "shortanswer"
    NUMERICAL = "numerical"
    MATCH = "match"
    ESSAY = "essay"
    DESCRIPTION = "description"


# The blank Moodle puts where a missing-word answer block was (format.php, readquestion).
BLANK = "_____"


@dataclass(frozen=True)
class Text:
    """A text and its format; an empty text carries its default format, as Moodle's does."""

    text: str
    format: Format = Format.MOODLE


@dataclass(frozen=True)
class Choice:
    """A multiple-choice answer: text, weight (fraction of the mark, -1..1), feedback."""

    text: Text
    fraction: float
    feedback: Text


@dataclass(frozen=True)
class Alternative:
    """An accepted short answer (`*` is Moodle's wildcard), its weight and feedback."""

    text: str
    fraction: float
    feedback: Text


@dataclass(frozen=True)
class NumericAnswer:
    """A numerical answer: `value` ± `tolerance` (nominal); `value` None is Moodle's `*`."""

    value: float | None
    tolerance: float
    fraction: float
    feedback: Text


@dataclass(frozen=True)
class Pair:
    """A matching pair; an empty `question` is a distractor answer (no stem)."""

    question: Text
    answer: str


_ID = re.compile(r"\[id:((?:\\]|[^\]\x00-\x1f\x7f])+)\]")
_TAG = re.compile(r"\[tag:((?:\\]|[^\]<>`\x00-\x1f\x7f])+)\]")
_SOURCE = re.compile(r"^//\s*source:\s*(.*?)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Question:
    """One imported question. `comments` are its `//` lines, kept so a bank round-trips.

    Only the fields of its type are filled: `choices` (multichoice, `single` says whether one
    answer or several may be chosen), `correct` and the two feedbacks (truefalse),
    `alternatives` (shortanswer), `numbers` (numerical), `pairs` (match).
    """

    qtype: QType
    category: str
    name: str | None
    text: Text
    general_feedback: Text
    comments: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    single: bool = True
    correct: bool = False
    feedback_wrong: Text = Text("")
    feedback_right: Text = Text("")
    alternatives: tuple[Alternative, ...] = ()
    numbers: tuple[NumericAnswer, ...] = ()
    pairs: tuple[Pair, ...] = ()
    # Where the question starts in its file (1-based); not part of the question's identity.
    line: int = field(default=0, compare=False)

    @property
    def idnumber(self) -> str:
        """Moodle's idnumber: the first `[id:…]` in the comments (format.php's regex), or ''."""
        m = _ID.search("\n".join(self.comments))
        return m.group(1).strip().replace("\\]", "]") if m else ""

    @property
    def tags(self) -> tuple[str, ...]:
        """Moodle's tags: every `[tag:…]` in the comments."""
        found = _TAG.findall("\n".join(self.comments))
        return tuple(t.strip().replace("\\]", "]") for t in found)

    @property
    def sources(self) -> tuple[str, ...]:
        """Our convention: `// source: <citation or URL>` comment lines."""
        out = []
        for c in self.comments:
            m = _SOURCE.match(c)
            if m and m.group(1):
                out.append(m.group(1))
        return tuple(out)

    @property
    def id(self) -> str:
        """The stable id: the `[id:…]` idnumber, else the `::name::` title, else ''."""
        return self.idnumber or (self.name or "")

    @property
    def stems(self) -> tuple[Pair, ...]:
        """Matching pairs that ask something (not distractors)."""
        return tuple(p for p in self.pairs if p.question.text)

    @property
    def match_choices(self) -> tuple[str, ...]:
        """The answers a matching question offers, each once, in bank order (as Moodle)."""
        seen: dict[str, None] = {}
        for p in self.pairs:
            seen.setdefault(p.answer, None)
        return tuple(seen)

    @property
    def answer_count(self) -> int:
        """How many answers the question has (compared between the languages of a bank)."""
        if self.qtype is QType.MULTICHOICE:
            return len(self.choices)
        if self.qtype is QType.SHORTANSWER:
            return len(self.alternatives)
        if self.qtype is QType.NUMERICAL:
            return len(self.numbers)
        if self.qtype is QType.MATCH:
            return len(self.pairs)
        if self.qtype is QType.TRUEFALSE:
            return 2
        return 0

    @property
    def scored(self) -> bool:
        """Descriptions carry no mark (Moodle gives them defaultmark 0)."""
        return self.qtype is not QType.DESCRIPTION

    @property
    def has_blank(self) -> bool:
        """A missing-word question: the answer block stood inside the text."""
        return BLANK in self.text.text


@dataclass(frozen=True)
class Bank:
    """The questions of one GIFT file, in file order, each with its `$CATEGORY`."""

    path: str
    questions: tuple[Question, ...]

    @property
    def categories(self) -> tuple[str, ...]:
        """The distinct categories, in order of appearance."""
        return tuple(dict.fromkeys(q.category for q in self.questions))

    def by_id(self) -> dict[str, Question]:
        """Questions keyed by their stable id (later duplicates are the checker's business)."""
        out: dict[str, Question] = {}
        for q in self.questions:
            out.setdefault(q.id, q)
        return out
