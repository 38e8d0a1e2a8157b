"""Writing questions back as GIFT that Moodle (and `gift.parse_gift`) imports the same way.

It writes what Moodle's exporter writes (format.php, writequestion: `repchar` escapes,
`[format]` only where it differs from the question's, weights as `%n%`), with the fixes a
faithful round trip needs and Moodle's exporter lacks: a text starting with `[` gets an explicit
format so it is not read as one; a question without a name gets its format written so its first
line cannot read as a comment, a category or a name; a single-answer multiple choice writes only
its first 100 % answer with `=` (the others as `~%100%`) so it stays a multiple choice.
Content no GIFT file can hold (a `->` in a short answer, a `\\r`, an untrimmed text) raises
`GiftWriteError` rather than being written as something else.
"""

from __future__ import annotations

from collections.abc import Iterable

from web.quiz.gift import PHP_SPACE, php_trim
from web.quiz.model import Format, QType, Question, Text
from web.quiz.weights import match_fraction, percent_text


class GiftWriteError(ValueError):
    """A question holds something GIFT cannot express; the message names the question."""


_SPECIAL = "#=~{}:"


def _check_text(text: str, where: str) -> None:
    if php_trim(text) != text:
        raise GiftWriteError(f"{where}: text has leading or trailing white space: {text!r}")
    if "\r" in text:
        raise GiftWriteError(f"{where}: text holds a carriage return")
    if any("\ue000" <= c <= "\ue006" for c in text):
        raise GiftWriteError(f"{where}: text holds a reserved character U+E000..U+E006")


def escape(text: str) -> str:
    """Moodle's repchar(): backslash, `# = ~ { } :` and newlines escaped."""
    out = text.replace("\\", "\\\\")
    for c in _SPECIAL:
        out = out.replace(c, "\\" + c)
    return out.replace("\n", "\\n")


def _text(t: Text, default: Format, where: str, force_format: bool = False) -> str:
    _check_text(t.text, where)
    prefix = ""
    if t.text and (t.format != default or force_format or t.text.startswith("[")):
        prefix = f"[{t.format.value}]"
    elif force_format:
        prefix = f"[{t.format.value}]"
    return prefix + escape(t.text)


def _weight(fraction: float, where: str) -> str:
    if match_fraction(fraction) is None:
        raise GiftWriteError(f"{where}: weight {fraction!r} is not a Moodle grade option")
    return f"%{percent_text(fraction)}%"


def _number(value: float) -> str:
    return repr(float(value))


def _no_arrow(text: str, where: str) -> None:
    if "->" in text:
        raise GiftWriteError(f"{where}: '->' here would make Moodle read a matching question")


def _answers(q: Question, where: str) -> list[str]:
    fmt = q.text.format
    lines: list[str] = []
    if q.qtype is QType.MULTICHOICE:
        equals_used = False
        for n, c in enumerate(q.choices, 1):
            at = f"{where} answer {n}"
            if not c.text.text:
                raise GiftWriteError(f"{at}: empty answer")
            if q.single and c.fraction == 1.0 and not equals_used:
                mark, equals_used = "=", True
            elif c.fraction == 0.0 and not c.text.text.startswith("%"):
                mark = "~"
            else:
                mark = "~" + _weight(c.fraction, at)
            line = "\t" + mark + _text(c.text, fmt, at)
            if c.feedback.text:
                line += "#" + _text(c.feedback, fmt, at)
            lines.append(line)
        if q.single != equals_used:
            raise GiftWriteError(f"{where}: a single-answer question needs a 100% answer")
        if len(q.choices) < 2:
            raise GiftWriteError(f"{where}: a multiple-choice question needs 2 answers")
    elif q.qtype is QType.SHORTANSWER:
        if not q.alternatives:
            raise GiftWriteError(f"{where}: a short-answer question needs an answer")
        for n, a in enumerate(q.alternatives, 1):
            at = f"{where} answer {n}"
            _no_arrow(a.text, at)
            _no_arrow(a.feedback.text, at)
            if not a.text:
                raise GiftWriteError(f"{at}: empty answer")
            # The answer's format is dropped on import, so any known one escapes a leading '['.
            line = "\t=" + _weight(a.fraction, at) + _text(Text(a.text, fmt), fmt, at)
            if a.feedback.text:
                line += "#" + _text(a.feedback, fmt, at)
            lines.append(line)
    elif q.qtype is QType.NUMERICAL:
        if not q.numbers:
            raise GiftWriteError(f"{where}: a numerical question needs an answer")
        for n, a in enumerate(q.numbers, 1):
            at = f"{where} answer {n}"
            if a.value is None:
                body = "*" if a.tolerance == 0 else f"*:{_number(a.tolerance)}"
            else:
                body = f"{_number(a.value)}:{_number(a.tolerance)}"
            line = "\t=" + _weight(a.fraction, at) + body
            if a.feedback.text:
                line += "#" + _text(a.feedback, fmt, at)
            lines.append(line)
    elif q.qtype is QType.MATCH:
        for n, p in enumerate(q.pairs, 1):
            at = f"{where} pair {n}"
            _no_arrow(p.question.text, at)
            _check_text(p.answer, at)
            if not p.answer:
                raise GiftWriteError(f"{at}: empty answer")
            lines.append("\t=" + _text(p.question, fmt, at) + " -> " + escape(p.answer))
    return lines


def write_question(q: Question) -> str:
    """One question as a GIFT block (comment lines, then the question), ending in a newline."""
    where = f"question {q.id or q.text.text[:30]!r}"
    out = []
    for c in q.comments:
        if not c.startswith("//") or "\n" in c or "\r" in c or php_trim(c) != c:
            raise GiftWriteError(f"{where}: comment {c!r} is not one trimmed '//' line")
        out.append(c)
    head = ""
    if q.name is not None:
        _check_text(q.name, where)
        head = f"::{escape(q.name)}::"
    fmt = q.text.format
    text = head + _text(q.text, Format.MOODLE, where, force_format=q.name is None)
    general = ""
    if q.general_feedback.text:
        general = "####" + _text(q.general_feedback, fmt, f"{where} general feedback")
    if q.qtype is QType.DESCRIPTION:
        if general:
            raise GiftWriteError(f"{where}: a description has no general feedback in GIFT")
        out.append(text)
    elif q.qtype is QType.ESSAY:
        out.append(text + "{" + general + "}")
    elif q.qtype is QType.TRUEFALSE:
        wrong = _text(q.feedback_wrong, fmt, where) if q.feedback_wrong.text else ""
        right = _text(q.feedback_right, fmt, where) if q.feedback_right.text else ""
        block = "TRUE" if q.correct else "FALSE"
        if wrong or right:
            block += "#" + wrong
        if right:
            block += "#" + right
        out.append(text + "{" + block + general + "}")
    else:
        out.append(text + ("{#" if q.qtype is QType.NUMERICAL else "{"))
        out.extend(_answers(q, where))
        if general:
            out.append("\t" + general)
        out.append("}")
    return "\n".join(out) + "\n"


def write_gift(questions: Iterable[Question]) -> str:
    """A GIFT file: a `$CATEGORY:` line whenever the category changes, blank lines between."""
    blocks: list[str] = []
    category = ""
    for q in questions:
        if q.category != category:
            if (
                not q.category
                or any(c in q.category for c in "\\\n\r")
                or (php_trim(q.category) != q.category)
            ):
                raise GiftWriteError(f"category {q.category!r} cannot be written in GIFT")
            blocks.append(f"$CATEGORY: {q.category}\n")
            category = q.category
        blocks.append(write_question(q))
    return "\n".join(blocks)


__all__ = ["GiftWriteError", "escape", "write_gift", "write_question", "PHP_SPACE"]
