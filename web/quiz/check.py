"""`lune quiz check`: what a course's banks and quizzes must satisfy before anyone sits them.

Every bank parses as Moodle would import it; each file declares its module's category once;
every question has a stable id (`// [id:…]` equal to its `::title::`), at least one tag, a source
and feedback; weights give full marks to a right answer; ids are unique per language; the French
and English banks pair up (same ids, types, answer counts and keys, so scores and statistics do
not depend on the language); every quiz's pools exist and are big enough for their draw.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from web.quiz.banks import LANGUAGES, CourseBanks, category_for, load_banks
from web.quiz.definition import QuizConfigError, QuizDefinition, parse_quizzes
from web.quiz.model import QType, Question


@dataclass
class CheckReport:
    """What `check_course` found: problems (empty means pass) and counts for the summary."""

    course_id: str
    problems: list[str]
    banks: int
    questions: int
    quizzes: tuple[QuizDefinition, ...]

    @property
    def ok(self) -> bool:
        return not self.problems


def _has_feedback(q: Question) -> bool:
    if q.general_feedback.text:
        return True
    if q.qtype is QType.MULTICHOICE:
        return all(c.feedback.text for c in q.choices)
    if q.qtype is QType.TRUEFALSE:
        return bool(q.feedback_wrong.text and q.feedback_right.text)
    if q.qtype is QType.SHORTANSWER:
        return all(a.feedback.text for a in q.alternatives)
    if q.qtype is QType.NUMERICAL:
        return all(n.feedback.text for n in q.numbers)
    return False


def _key(q: Question) -> tuple:
    """What must not differ between languages for a question to score the same."""
    if q.qtype is QType.MULTICHOICE:
        return (q.single, tuple(c.fraction for c in q.choices))
    if q.qtype is QType.TRUEFALSE:
        return (q.correct,)
    if q.qtype is QType.SHORTANSWER:
        return tuple(a.fraction for a in q.alternatives)
    if q.qtype is QType.NUMERICAL:
        return tuple((n.value, n.tolerance, n.fraction) for n in q.numbers)
    if q.qtype is QType.MATCH:
        return tuple(bool(p.question.text) for p in q.pairs)
    return ()


def question_problems(q: Question) -> list[str]:
    """Problems of one question, independent of the rest of the bank."""
    out = []
    if not q.idnumber:
        out.append("no '// [id:…]' comment")
    elif q.name != q.idnumber:
        out.append(f"title ::{q.name or ''}:: differs from its id [id:{q.idnumber}]")
    if not q.tags:
        out.append("no '// [tag:…]' comment")
    if q.scored and not q.sources:
        out.append("no '// source: …' comment")
    if q.scored and not _has_feedback(q):
        out.append("no feedback: give general feedback (####…) or feedback on every answer")
    if q.qtype is QType.MULTICHOICE and not q.single:
        positive = sum(c.fraction for c in q.choices if c.fraction > 0)
        if abs(positive - 1) > 1e-6:
            out.append(f"the positive weights add up to {positive * 100:g}%, not 100%")
    if q.qtype in (QType.MULTICHOICE, QType.SHORTANSWER, QType.NUMERICAL) and q.single:
        fractions = {
            QType.MULTICHOICE: [c.fraction for c in q.choices],
            QType.SHORTANSWER: [a.fraction for a in q.alternatives],
            QType.NUMERICAL: [n.fraction for n in q.numbers],
        }[q.qtype]
        if max(fractions) < 1.0:
            out.append("no answer is worth 100%")
    if q.qtype is QType.SHORTANSWER and len(q.alternatives) == 1:
        word = q.alternatives[0].text
        tokens = ("T", "TRUE", "F", "FALSE")
        if word.upper() in tokens and word not in tokens:
            out.append(f"{{{word}}} is a short answer in Moodle; true/false is {word.upper()}")
    return out


def _bank_problems(course_id: str, banks: CourseBanks) -> list[str]:
    out: list[str] = []
    seen: dict[tuple[str, str], str] = {}
    for (module, lang), bank in sorted(banks.banks.items()):
        where = bank.path
        want = category_for(course_id, module)
        if bank.categories != (want,):
            got = ", ".join(bank.categories) or "none"
            out.append(f"{where}: needs exactly one $CATEGORY: {want} (found: {got})")
        for q in bank.questions:
            at = f"{where}:{q.line}"
            out.extend(f"{at}: {p}" for p in question_problems(q))
            if q.id:
                first = seen.setdefault((lang, q.id), at)
                if first != at:
                    out.append(f"{at}: duplicate id {q.id!r} (first at {first})")
    for module in sorted(banks.modules | {m for m, _ in banks.unreadable}):
        if any((module, lang) in banks.unreadable for lang in LANGUAGES):
            continue  # its parse errors are reported already
        pair = {lang: banks.banks.get((module, lang)) for lang in LANGUAGES}
        missing = [lang for lang, bank in pair.items() if bank is None]
        if missing:
            need = "/".join(missing)
            out.append(f"quizzes/{module}: no {need} bank (each module needs en and fr)")
            continue
        en, fr = pair["en"].by_id(), pair["fr"].by_id()
        for qid in sorted(set(en) - set(fr)):
            out.append(f"{pair['en'].path}:{en[qid].line}: id {qid!r} has no French version")
        for qid in sorted(set(fr) - set(en)):
            out.append(f"{pair['fr'].path}:{fr[qid].line}: id {qid!r} has no English version")
        for qid in sorted(set(en) & set(fr)):
            a, b = en[qid], fr[qid]
            at = f"{pair['fr'].path}:{b.line}"
            if a.qtype is not b.qtype:
                out.append(f"{at}: {qid!r} is {b.qtype} in French but {a.qtype} in English")
            elif a.answer_count != b.answer_count:
                out.append(
                    f"{at}: {qid!r} has {b.answer_count} answers in French, "
                    f"{a.answer_count} in English"
                )
            elif _key(a) != _key(b):
                out.append(f"{at}: {qid!r} weights or key differ between French and English")
    return out


def _quiz_problems(quizzes: tuple[QuizDefinition, ...], banks: CourseBanks) -> list[str]:
    out = []
    for quiz in quizzes:
        for pool in quiz.pools:
            for lang in LANGUAGES:
                bank = banks.banks.get((pool.pool, lang))
                if (pool.pool, lang) in banks.unreadable:
                    continue
                if bank is None:
                    out.append(f"quiz {quiz.id}: pool {pool.pool} has no {lang} bank")
                    continue
                size = sum(1 for q in bank.questions if q.scored)
                if size < pool.draw:
                    out.append(
                        f"quiz {quiz.id}: pool {pool.pool} ({lang}) has {size} questions "
                        f"for a draw of {pool.draw}"
                    )
    return out


def check_course(course_dir: Path) -> CheckReport:
    """Run every rule over a course directory (course.toml + quizzes/)."""
    path = course_dir / "course.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return CheckReport(str(course_dir), [f"{path}: cannot read: {exc}"], 0, 0, ())
    course_id = str(data.get("id", course_dir.name))
    banks = load_banks(course_dir)
    problems = list(banks.problems)
    quizzes: tuple[QuizDefinition, ...] = ()
    try:
        banked = banks.modules | {m for m, _ in banks.unreadable}
        quizzes = parse_quizzes(data, "course.toml", banked)
    except QuizConfigError as exc:
        problems.append(str(exc))
    problems.extend(_bank_problems(course_id, banks))
    problems.extend(_quiz_problems(quizzes, banks))
    if not banks.banks and not problems:
        problems.append(f"{course_dir}/quizzes: no question banks")
    count = sum(len(b.questions) for b in banks.banks.values())
    return CheckReport(course_id, problems, len(banks.banks), count, quizzes)
