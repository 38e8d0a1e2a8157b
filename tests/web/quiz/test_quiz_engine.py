"""The attempt engine with a controllable clock: draws, deadlines and grace, autosubmission,
resume, start rules, review policy, and responses forged by a browser."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from quizkit import T0, pools, quiz

from web.quiz import engine
from web.quiz.definition import Review
from web.quiz.engine import AttemptClosed, BadResponse, PastAttempt, StartRefused

POOLS = pools(m1=10, m2=5)
INDEX = {q.id: q for qs in POOLS.values() for q in qs}


def right_position(slot) -> str:
    """The display position of the answer 'right' (choice 0 in the bank) in this slot."""
    return str(slot.order.index(0))


def test_draw_is_reproducible_from_its_seed_and_follows_the_pools():
    q = quiz()
    a = engine.draw(q, POOLS, "seed-1")
    assert a == engine.draw(q, POOLS, "seed-1")
    assert Counter(s.pool for s in a) == {"m1": 2, "m2": 1}
    draws = {tuple(s.question_id for s in engine.draw(q, POOLS, f"s{i}")) for i in range(20)}
    assert len(draws) > 10  # different seeds, different draws


def test_draw_prefers_questions_not_seen_yet():
    q = quiz()
    seen: Counter = Counter()
    drawn_m1: list[str] = []
    for i in range(5):  # 5 attempts x 2 questions = the whole m1 pool of 10
        slots = engine.draw(q, POOLS, f"attempt-{i}", seen)
        for s in slots:
            seen[s.question_id] += 1
        drawn_m1 += [s.question_id for s in slots if s.pool == "m1"]
    assert len(drawn_m1) == len(set(drawn_m1)) == 10  # no repeat before the pool is used up
    # m2 (5 questions, 1 per attempt) was also covered without a repeat
    assert sorted(k for k in seen if k.startswith("m2")) == [f"m2-q{i}" for i in range(5)]


def test_shuffle_settings():
    fixed = engine.draw(quiz(shuffle_questions=False, shuffle_answers=False), POOLS, "x")
    assert [s.pool for s in fixed] == ["m1", "m1", "m2"]
    assert all(s.order == (0, 1, 2) for s in fixed)
    shuffled = [engine.draw(quiz(), POOLS, f"x{i}") for i in range(10)]
    assert any(s.order != (0, 1, 2) for d in shuffled for s in d)


def test_pool_too_small_is_refused():
    with pytest.raises(StartRefused, match="pool m2 has 5 questions for a draw of 6"):
        engine.draw(quiz(pools=(engine_pool("m2", 6),)), POOLS, "x")


def engine_pool(module, n):
    from web.quiz.definition import PoolDraw

    return PoolDraw(module, n)


def started(q=None, at=T0):
    q = q or quiz()
    return q, engine.start(q, POOLS, [], at, "seed")


def test_answers_saved_until_deadline_plus_grace_then_autosubmitted():
    q, state = started()
    s0, s1, s2 = state.slots
    state = engine.save_response(
        q,
        state,
        s0.question_id,
        engine.read_response(INDEX[s0.question_id], s0, right_position(s0)),
        T0 + timedelta(minutes=2),
    )
    # at the deadline plus 29 s (within the 30 s grace) a last autosave still lands
    late = T0 + timedelta(minutes=10, seconds=29)
    state = engine.save_response(
        q,
        state,
        s1.question_id,
        engine.read_response(INDEX[s1.question_id], s1, right_position(s1)),
        late,
    )
    assert not engine.is_overdue(q, state, late)
    after = T0 + timedelta(minutes=10, seconds=31)
    with pytest.raises(AttemptClosed):
        engine.save_response(q, state, s2.question_id, 0, after)
    assert engine.is_overdue(q, state, after)
    done = engine.settle(q, state, after)
    assert done.submitted_at == T0 + timedelta(minutes=10) and done.autosubmitted
    assert done.responses == state.responses
    result = engine.score(done, INDEX)
    assert result.total == 2.0 and result.maximum == 3
    assert result.percent == 66.67 and result.passed(q) is True


def test_settle_leaves_an_attempt_within_its_time_alone():
    q, state = started()
    assert engine.settle(q, state, T0 + timedelta(minutes=10, seconds=30)) is state


def test_resume_gets_the_remaining_time():
    q, state = started()
    assert engine.remaining(q, state, T0 + timedelta(minutes=4)) == timedelta(minutes=6)
    assert engine.remaining(q, state, T0 + timedelta(minutes=12)) == timedelta(0)
    assert engine.remaining(quiz(time_limit=None), state, T0) is None


def test_quiz_closing_shortens_the_deadline():
    q, state = started(quiz(closes=T0 + timedelta(minutes=5)))
    assert engine.deadline(q, state.started_at) == T0 + timedelta(minutes=5)


def test_submit_early_and_twice():
    q, state = started()
    done = engine.submit(q, state, T0 + timedelta(minutes=3))
    assert done.submitted_at == T0 + timedelta(minutes=3) and not done.autosubmitted
    with pytest.raises(AttemptClosed):
        engine.submit(q, done, T0 + timedelta(minutes=4))
    with pytest.raises(AttemptClosed, match="already submitted"):
        engine.save_response(q, done, done.slots[0].question_id, 0, T0 + timedelta(minutes=4))


def test_late_submit_is_the_automatic_submission():
    q, state = started()
    done = engine.submit(q, state, T0 + timedelta(hours=2))
    assert done.autosubmitted and done.submitted_at == T0 + timedelta(minutes=10)


def past(number, started_min, done_min=None):
    done = None if done_min is None else T0 + timedelta(minutes=done_min)
    return PastAttempt(number, T0 + timedelta(minutes=started_min), done)


@pytest.mark.parametrize(
    ("history", "now_min", "percent", "code"),
    [
        ([], 0, 50.0, "not-eligible"),
        ([], 0, None, "not-eligible"),
        ([past(1, 0)], 5, 80.0, "in-progress"),
        ([past(1, 0, 10)], 30, 80.0, "too-soon"),
        ([past(1, 0, 10), past(2, 100, 110)], 500, 80.0, "no-attempts-left"),
    ],
)
def test_start_rules(history, now_min, percent, code):
    q = quiz(min_course_percent=70.0)
    with pytest.raises(StartRefused) as err:
        engine.start(q, POOLS, history, T0 + timedelta(minutes=now_min), "s", percent)
    assert err.value.code == code


def test_second_attempt_after_the_delay_is_number_two():
    q = quiz(min_course_percent=70.0)
    state = engine.start(q, POOLS, [past(1, 0, 10)], T0 + timedelta(minutes=71), "s", 70.0)
    assert state.number == 2


def test_opening_and_closing():
    q = quiz(opens=T0 + timedelta(days=1), closes=T0 + timedelta(days=2))
    for now, code in ((T0, "not-open"), (T0 + timedelta(days=3), "closed")):
        with pytest.raises(StartRefused) as err:
            engine.start(q, POOLS, [], now, "s")
        assert err.value.code == code


@pytest.mark.parametrize(
    ("review", "closes_in", "shown_before_close", "shown_after_close"),
    [
        (Review.NEVER, 60, False, False),
        (Review.AFTER_ATTEMPT, 60, True, True),
        (Review.AFTER_CLOSE, 60, False, True),
    ],
)
def test_review_policy(review, closes_in, shown_before_close, shown_after_close):
    q, state = started(quiz(review=review, closes=T0 + timedelta(minutes=closes_in)))
    assert engine.review_options(q, state, T0 + timedelta(minutes=1)) == engine.ReviewOptions(
        False, False, False
    )  # nothing while the attempt is open
    done = engine.submit(q, state, T0 + timedelta(minutes=5))
    before = engine.review_options(q, done, T0 + timedelta(minutes=6))
    after = engine.review_options(q, done, T0 + timedelta(minutes=closes_in + 1))
    assert before.marks and after.marks  # the mark always shows once submitted
    assert before.right_answers is before.feedback is shown_before_close
    assert after.right_answers is after.feedback is shown_after_close


def test_forged_responses_are_refused():
    q, state = started()
    slot = state.slots[0]
    question = INDEX[slot.question_id]
    for raw in ("3", "-1", "x", ["0", "1"]):
        with pytest.raises(BadResponse):
            engine.read_response(question, slot, raw)
    with pytest.raises(BadResponse, match="not part of this attempt"):
        engine.save_response(q, state, "m1-q999", 0, T0)
    other = next(i for i in INDEX if i not in {s.question_id for s in state.slots})
    with pytest.raises(BadResponse):
        engine.save_response(q, state, other, 0, T0)


def test_display_positions_map_back_to_bank_answers():
    q, state = started()
    slot = state.slots[0]
    question = INDEX[slot.question_id]
    for position, bank_index in enumerate(slot.order):
        assert engine.read_response(question, slot, str(position)) == bank_index


def test_essay_pending_until_graded():
    from web.quiz.gift import parse_gift

    essay = parse_gift("::e1::Explain.{####Model answer}", "e.gift").questions[0]
    state = engine.AttemptState("cert", 1, "s", T0, (engine.Slot("e1", "m"),), {"e1": "text"})
    state = replace(state, submitted_at=T0)
    q = quiz()
    assert engine.score(state, {"e1": essay}).passed(q) is None
    assert engine.score(state, {"e1": essay}, {"e1": 1.0}).passed(q) is True
    blank = replace(state, responses={})
    assert engine.score(blank, {"e1": essay}).pending == 0
