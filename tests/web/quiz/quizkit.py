"""Small banks and quizzes for the quiz tests (GIFT written out, parsed by the real parser)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from web.quiz.definition import Kind, PoolDraw, QuizDefinition, Review
from web.quiz.gift import parse_gift

T0 = datetime(2026, 12, 4, 18, 0, tzinfo=UTC)


def pool_gift(module: str, n: int, lang: str = "en") -> str:
    """`n` single-answer questions `<module>-q<i>`, answer 'right' worth 100 %."""
    word = {"en": "Question", "fr": "Question (fr)"}[lang]
    blocks = [f"$CATEGORY: $course$/top/lune-101/{module}\n"]
    for i in range(n):
        qid = f"{module}-q{i}"
        blocks.append(
            f"// [id:{qid}]\n// [tag:test]\n// source: https://example.org/{qid}\n"
            f"::{qid}::{word} {i}?{{\n\t=right#Yes\n\t~wrong#No\n\t~other#No\n"
            f"\t####General {i}\n}}\n"
        )
    return "\n".join(blocks)


def pools(**sizes: int):
    """{module: questions} for modules given as module_name=size (underscores become dashes)."""
    out = {}
    for key, n in sizes.items():
        module = key.replace("_", "-")
        out[module] = parse_gift(pool_gift(module, n), f"{module}.en.gift").questions
    return out


def quiz(**overrides) -> QuizDefinition:
    """A timed certification quiz over pools m1 (draw 2) and m2 (draw 1)."""
    base = dict(
        id="cert",
        title="Certification",
        title_fr="Certification",
        kind=Kind.CERTIFICATION,
        pools=(PoolDraw("m1", 2), PoolDraw("m2", 1)),
        time_limit=timedelta(minutes=10),
        grace=timedelta(seconds=30),
        attempts=2,
        delay=timedelta(hours=1),
        pass_mark=60.0,
        review=Review.AFTER_ATTEMPT,
    )
    base.update(overrides)
    return QuizDefinition(**base)
