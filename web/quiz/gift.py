"""Reading GIFT files the way Moodle's importer does (question/format/gift/format.php).

The algorithm is Moodle's, step for step, so a bank means here what it means in Moodle:

* lines are trimmed; a blank line (or, as PHP's `empty()` has it, a line "0") ends a question;
  lines starting with `//` are comments (Moodle reads `[id:…]` and `[tag:…]` in them);
* escapes `\\\\ \\: \\# \\= \\{ \\} \\~ \\n` are replaced before anything else is looked at;
* `$CATEGORY: path` switches category; `::name::` titles a question;
* the first `{` … first `}` is the answer block: none is a description, `{}` an essay, text after
  the block makes a missing-word question (`_____` marks the blank); `####` starts the general
  feedback; the type is chosen by Moodle's rules (`#` numerical, `~` multiple choice, `=` with
  `->` matching, `T/TRUE/F/FALSE` true/false, anything else short answer);
* `[html]`, `[moodle]`, `[plain]`, `[markdown]` before a text set its format;
* weights `%n%` must be one of Moodle's grade options (`weights`).

Where Moodle silently imports something other than what was surely meant — a second answer
block, a `}` before the `{`, an empty answer, a numerical range whose minimum exceeds its maximum —
this parser refuses it with an error naming the file and line. Every error of a file is collected,
then raised together as one `GiftError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from web.quiz.model import (
    BLANK,
    Alternative,
    Bank,
    Choice,
    Format,
    NumericAnswer,
    Pair,
    QType,
    Question,
    Text,
)
from web.quiz.weights import match_fraction, nearest_fraction, percent_text

# PHP trim()'s default character list.
PHP_SPACE = " \t\n\r\0\x0b"
# Placeholders for escaped characters while the question is taken apart (Moodle uses "&&058;"
# and friends; private-use code points cannot collide with a real text, and are refused in input).
_ESCAPES = {c: chr(0xE000 + i) for i, c in enumerate(":#={}~n")}
_RESTORE = {v: ("\n" if k == "n" else k) for k, v in _ESCAPES.items()}
_RESTORE_TABLE = str.maketrans(_RESTORE)
_RESERVED = re.compile("[\ue000-\ue006]")
# Moodle's $giftanswerweightregex.
_WEIGHT = re.compile(r"^%-*([0-9]{1,2})\.?([0-9]*)%")
# PHP is_numeric(): optional sign, digits with an optional fraction, optional exponent.
_NUMERIC = re.compile(r"^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$")
_TRUEFALSE = ("T", "TRUE", "F", "FALSE")
_LINE_BREAK = re.compile(r"\r\n|\n|\r")


class GiftError(Exception):
    """A GIFT file Moodle would not import as written; one line per problem.

    Each line reads `file:line: what is wrong`, e.g.
    `quizzes/m04.gift:37: weight 33% is not one Moodle accepts (33.33333%)`.
    """

    def __init__(self, problems: list[tuple[str, int, str]]) -> None:
        self.problems = problems
        super().__init__("\n".join(f"{f}:{n}: {msg}" for f, n, msg in problems))


def php_trim(text: str) -> str:
    """PHP's trim(): only spaces, tabs, newlines, carriage returns, NUL and vertical tabs."""
    return text.strip(PHP_SPACE)


def restore(text: str) -> str:
    """Moodle's escapedchar_post(): placeholders back to the characters they stand for."""
    return text.translate(_RESTORE_TABLE)


class _Problem(Exception):
    def __init__(self, line: int, message: str) -> None:
        self.line = line
        self.message = message


@dataclass
class _Span:
    """A slice [a, b) of a question's escaped text, which knows each character's file line."""

    s: str
    lines: list[int]
    a: int
    b: int

    @property
    def text(self) -> str:
        return self.s[self.a : self.b]

    @property
    def line(self) -> int:
        if not self.lines:
            return 0
        return self.lines[min(self.a, len(self.lines) - 1)]

    def sub(self, i: int, j: int | None = None) -> _Span:
        end = self.b if j is None else self.a + j
        return _Span(self.s, self.lines, self.a + i, end)

    def trim(self) -> _Span:
        a, b = self.a, self.b
        while a < b and self.s[a] in PHP_SPACE:
            a += 1
        while b > a and self.s[b - 1] in PHP_SPACE:
            b -= 1
        return _Span(self.s, self.lines, a, b)

    def find(self, needle: str, start: int = 0) -> int:
        i = self.s.find(needle, self.a + start, self.b)
        return -1 if i < 0 else i - self.a

    def split(self, is_boundary: Callable[[str], str | None]) -> list[_Span]:
        """Split where `is_boundary(char)` says: 'drop' the char, or 'keep' it in the next part."""
        parts, start = [], self.a
        for i in range(self.a, self.b):
            action = is_boundary(self.s[i])
            if action == "drop":
                parts.append(_Span(self.s, self.lines, start, i))
                start = i + 1
            elif action == "keep":
                parts.append(_Span(self.s, self.lines, start, i))
                start = i
        parts.append(_Span(self.s, self.lines, start, self.b))
        return parts


def _escape_pass(chars: list[tuple[str, int]]) -> tuple[str, list[int]]:
    """Moodle's escapedchar_pre(): `\\\\` is a backslash, `\\:` etc. become placeholders."""
    out: list[str] = []
    lines: list[int] = []
    i, n = 0, len(chars)
    while i < n:
        ch, line = chars[i]
        nxt = chars[i + 1][0] if i + 1 < n else ""
        if ch == "\\" and nxt == "\\":
            out.append("\\")
            i += 2
        elif ch == "\\" and nxt in _ESCAPES:
            out.append(_ESCAPES[nxt])
            i += 2
        else:
            out.append(ch)
            i += 1
        lines.append(line)
    return "".join(out), lines


def _with_format(raw: str, default: Format) -> Text:
    """Moodle's parse_text_with_format(): a leading `[name]` of a known format sets it."""
    fmt, body = default, raw
    if raw.startswith("["):
        end = raw.find("]")
        name = raw[1:end] if end >= 0 else raw[1:-1]
        if name in Format._value2member_map_:
            fmt, body = Format(name), raw[end + 1 :]
    body = php_trim(restore(body))
    # An empty text keeps its default format: that is what a re-import of it gives.
    return Text(body, fmt if body else default)


def _comment_split(span: _Span, default: Format) -> tuple[Text, Text]:
    """Moodle's commentparser(): `answer#feedback`, each with its own format."""
    cut = span.find("#")
    if cut < 0:
        return _with_format(php_trim(span.text), default), Text("", default)
    answer = _with_format(php_trim(span.sub(0, cut).text), default)
    return answer, _with_format(php_trim(span.sub(cut + 1).text), default)


def _weight(span: _Span, default: float) -> tuple[float, _Span]:
    """A leading `%n%` weight checked against Moodle's grade options, and the rest."""
    text = span.text
    if not _WEIGHT.match(text):
        return default, span
    end = text.index("%", 1)
    raw = text[1:end]
    try:
        value = float(raw) / 100
    except ValueError:
        raise _Problem(span.line, f"weight %{raw}% is not a number") from None
    option = match_fraction(value)
    if option is None:
        near = percent_text(nearest_fraction(value))
        raise _Problem(span.line, f"weight {raw}% is not one Moodle accepts ({near}%)")
    return option, span.sub(end + 1)


def _drop_empty_first(parts: list[_Span]) -> list[_Span]:
    # Moodle: `if (empty($answers[0])) array_shift($answers);` — PHP's empty() is true for "0".
    if parts and php_trim(parts[0].text) in ("", "0"):
        return parts[1:]
    return parts


def _number(raw: str, line: int, what: str) -> float:
    if not _NUMERIC.match(raw):
        raise _Problem(line, f"{what} {raw.strip()!r} is not a number")
    value = float(raw)
    if value != value or value in (float("inf"), float("-inf")):
        raise _Problem(line, f"{what} {raw.strip()!r} is out of range")
    return value


def _multichoice(answers: _Span, fmt: Format) -> dict:
    single = "=" in answers.text
    parts = answers.split(lambda c: "drop" if c == "~" else "keep" if c == "=" else None)
    parts = _drop_empty_first(parts)
    if len(parts) < 2:
        raise _Problem(answers.line, "a multiple-choice question needs at least 2 answers")
    choices = []
    for n, part in enumerate(parts, 1):
        part = part.trim()
        if part.text.startswith("="):
            fraction, rest = 1.0, part.sub(1)
        else:
            fraction, rest = _weight(part, 0.0)
        text, feedback = _comment_split(rest, fmt)
        if not text.text:
            raise _Problem(part.line, f"answer {n} is empty")
        choices.append(Choice(text, fraction, feedback))
    return {"choices": tuple(choices), "single": single}


def _matching(answers: _Span, fmt: Format) -> dict:
    parts = _drop_empty_first(answers.split(lambda c: "drop" if c == "=" else None))
    if len(parts) < 2:
        raise _Problem(answers.line, "a matching question needs at least 2 pairs")
    pairs = []
    for n, part in enumerate(parts, 1):
        part = part.trim()
        marker = part.find("->")
        if marker < 0:
            raise _Problem(part.line, f"matching pair {n} has no '->' between question and answer")
        question = _with_format(part.sub(0, marker).text, fmt)
        answer = php_trim(restore(part.sub(marker + 2).text))
        if not answer:
            raise _Problem(part.line, f"matching pair {n} has no answer after '->'")
        pairs.append(Pair(question, answer))
    if sum(1 for p in pairs if p.question.text) < 2:
        raise _Problem(answers.line, "a matching question needs at least 2 pairs with a question")
    return {"pairs": tuple(pairs)}


def _truefalse(answers: _Span, fmt: Format) -> dict:
    bits = answers.text.split("#", 2)
    token = _with_format(php_trim(bits[0]), fmt).text
    wrong = _with_format(php_trim(bits[1]), fmt) if len(bits) > 1 else Text("", fmt)
    right = _with_format(php_trim(bits[2]), fmt) if len(bits) > 2 else Text("", fmt)
    return {"correct": token in ("T", "TRUE"), "feedback_wrong": wrong, "feedback_right": right}


def _shortanswer(answers: _Span, fmt: Format) -> dict:
    parts = _drop_empty_first(answers.split(lambda c: "drop" if c == "=" else None))
    if not parts:
        raise _Problem(answers.line, "a short-answer question needs at least 1 answer")
    alternatives = []
    for n, part in enumerate(parts, 1):
        part = part.trim()
        fraction, rest = _weight(part, 1.0)
        text, feedback = _comment_split(rest, fmt)
        if not text.text:
            raise _Problem(part.line, f"accepted answer {n} is empty")
        alternatives.append(Alternative(text.text, fraction, feedback))
    return {"alternatives": tuple(alternatives)}


def _numerical(answers: _Span, fmt: Format) -> dict:
    body = answers.sub(1)
    wrong_at = body.find("~")
    wrong = None
    if wrong_at >= 0:
        wrong, body = body.sub(wrong_at), body.sub(0, wrong_at)
    parts = _drop_empty_first(body.split(lambda c: "drop" if c == "=" else None))
    if not parts:
        raise _Problem(answers.line, "a numerical question needs at least one answer")
    numbers = []
    for part in parts:
        part = part.trim()
        fraction, rest = _weight(part, 1.0)
        text, feedback = _comment_split(rest, fmt)
        raw, line = text.text, part.line
        if raw.find("..") > 0:
            cut = raw.index("..")
            low = _number(raw[:cut], line, "range minimum")
            high = _number(raw[cut + 2 :], line, "range maximum")
            if low > high:
                raise _Problem(line, f"range {raw} has its minimum above its maximum")
            value = (high + low) / 2
            tolerance = high - value
        elif raw.find(":") > 0:
            cut = raw.index(":")
            tolerance = _number(raw[cut + 1 :], line, "tolerance")
            value = None if php_trim(raw[:cut]) == "*" else _number(raw[:cut], line, "answer")
        else:
            tolerance = 0.0
            value = None if raw == "*" else _number(raw, line, "answer")
        numbers.append(NumericAnswer(value, tolerance, fraction, feedback))
    if wrong is not None:
        # Moodle turns `~#feedback` into a catch-all answer '*' worth 0.
        _, feedback = _comment_split(wrong, fmt)
        numbers.append(NumericAnswer(None, 0.0, 0.0, feedback))
    return {"numbers": tuple(numbers)}


def _answer_block(body: _Span) -> tuple[_Span | None, str]:
    """The answer block (None for a description) and the question text around it."""
    start, finish = body.find("{"), body.find("}")
    if start < 0 and finish < 0:
        return None, body.text
    if start < 0:
        raise _Problem(body.sub(finish).line, "'}' without a '{' (escape a literal brace as \\})")
    if finish < 0:
        raise _Problem(body.sub(start).line, "'{' without a closing '}'")
    if finish < start:
        raise _Problem(body.sub(finish).line, "'}' before the answer block's '{'")
    inner = body.find("{", start + 1)
    if 0 <= inner < finish:
        raise _Problem(body.sub(inner).line, "'{' inside an answer block (escape it as \\{)")
    for brace in ("{", "}"):
        extra = body.find(brace, finish + 1)
        if extra >= 0:
            raise _Problem(
                body.sub(extra).line,
                f"a second '{brace}' after the answer block (one block per question; "
                f"escape a literal brace as \\{brace})",
            )
    text = body.text
    if finish == len(text) - 1:
        question_text = text[:start] + text[finish + 1 :]
    else:
        question_text = text[:start] + BLANK + text[finish + 1 :]
    return body.sub(start + 1, finish).trim(), question_text


def _question(body: _Span, category: str, comments: tuple[str, ...], first_line: int) -> Question:
    name = None
    if body.text.startswith("::"):
        rest = body.sub(2)
        end = rest.find("::")
        if end >= 0:
            name = php_trim(restore(rest.sub(0, end).text))
            body = rest.sub(end + 2).trim()
        else:
            body = rest
    answers, question_text = _answer_block(body)
    general = ""
    if answers is not None:
        cut = answers.text.rfind("####")
        if cut >= 0:
            general = answers.sub(cut + 4).text
            answers = answers.sub(0, cut).trim()
    text = _with_format(question_text, Format.MOODLE)
    fmt = text.format
    common = {
        "category": category,
        "name": name,
        "text": text,
        "general_feedback": _with_format(general, fmt),
        "comments": comments,
        "line": first_line,
        "feedback_wrong": Text("", fmt),
        "feedback_right": Text("", fmt),
    }
    if answers is None:
        return Question(QType.DESCRIPTION, **common)
    a = answers.text
    if a == "":
        return Question(QType.ESSAY, **common)
    if a.startswith("#"):
        return Question(QType.NUMERICAL, **common, **_numerical(answers, fmt))
    if "~" in a:
        return Question(QType.MULTICHOICE, **common, **_multichoice(answers, fmt))
    if "=" in a and "->" in a:
        return Question(QType.MATCH, **common, **_matching(answers, fmt))
    check = php_trim(a[: a.find("#")]) if a.find("#") > 0 else a
    if check in _TRUEFALSE:
        common.update(_truefalse(answers, fmt))
        return Question(QType.TRUEFALSE, **common)
    return Question(QType.SHORTANSWER, **common, **_shortanswer(answers, fmt))


def _blocks(text: str) -> list[list[tuple[int, str]]]:
    """Moodle's readquestions(): trimmed lines, grouped between blank lines."""
    blocks, current = [], []
    for number, raw in enumerate(_LINE_BREAK.split(text), 1):
        line = php_trim(raw)
        if line in ("", "0"):
            if current:
                blocks.append(current)
                current = []
        else:
            current.append((number, line))
    if current:
        blocks.append(current)
    return blocks


def parse_gift(text: str, path: str = "<gift>") -> Bank:
    """Parse a GIFT file's text into a Bank; GiftError lists every problem as `path:line: why`."""
    problems: list[tuple[str, int, str]] = []
    if text.startswith("\ufeff"):
        text = text[1:]
    for number, raw in enumerate(_LINE_BREAK.split(text), 1):
        if _RESERVED.search(raw):
            problems.append((path, number, "characters U+E000..U+E006 are reserved"))
    if problems:
        raise GiftError(problems)
    category = ""
    questions: list[Question] = []
    for block in _blocks(text):
        comments = tuple(line for _, line in block if line.startswith("//"))
        chars: list[tuple[str, int]] = []
        for i, (number, line) in enumerate(block):
            if i:
                chars.append(("\n", number))
            chars.extend((c, number) for c in (" " if line.startswith("//") else line))
        s, lines = _escape_pass(chars)
        body = _Span(s, lines, 0, len(s)).trim()
        if not body.text:
            continue
        if body.text.startswith("$CATEGORY:"):
            category = php_trim(restore(body.sub(10).text))
            continue
        try:
            questions.append(_question(body, category, comments, block[0][0]))
        except _Problem as exc:
            problems.append((path, exc.line, exc.message))
    if problems:
        raise GiftError(problems)
    return Bank(path=path, questions=tuple(questions))


def load_gift(path: Path, shown_as: str | None = None) -> Bank:
    """Read and parse a GIFT file; errors name it as `shown_as` (default: the path given)."""
    where = shown_as or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise GiftError([(where, 1, f"not UTF-8 text: {exc.reason}")]) from None
    except OSError as exc:
        raise GiftError([(where, 0, f"cannot read: {exc.strerror}")]) from None
    return parse_gift(text, where)
