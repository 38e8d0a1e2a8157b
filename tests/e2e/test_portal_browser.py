"""The portal as its users see it, in Chromium: a learner's journey (in English and in French), a
forged notebook, an instructor's override and export, and learner markup that must never run.

The platform runs for real: gunicorn serving the portal, a `lune worker` grading in the sandbox.
Screenshots of each step go to build/screenshots/portal-*.png.
"""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from portalkit import PASSWORD, forged, shot, solved

pytestmark = [pytest.mark.browser, pytest.mark.notebook, pytest.mark.slow]


@pytest.fixture(scope="module")
def cohort(platform):
    """An instructor and their cohort (its invite code is what learners type)."""
    from web.extensions import db
    from web.services import accounts, cohorts

    app = platform.app()
    with app.app_context():
        teacher = accounts.create_user(
            "prof@lune.test", "Pauline Prof", PASSWORD, role="instructor"
        )
        db.session.commit()
        c = cohorts.create_cohort(teacher, "lune-101", "Marseille 2027")
        info = {"id": c.id, "code": c.invite_code}
        db.session.remove()
        db.engine.dispose()
    return info


def _notebook_file(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _register(page, platform, cohort, name: str, email: str):
    page.goto(f"{platform.url}/register?code={cohort['code']}")
    page.fill("input[name=name]", name)
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")


def _wait_for_score(page, timeout_s: float = 240):
    page.wait_for_selector("#score", timeout=timeout_s * 1000)
    return page.inner_text("#score")


def _learner_journey(chromium, platform, cohort, tmp_path, *, locale: str, tag: str, words: dict):
    context = chromium.new_context(locale=locale, extra_http_headers={"Accept-Language": locale})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    _register(page, platform, cohort, words["name"], words["email"])
    page.wait_for_url(re.compile(r"/learn/$"))
    assert words["my_courses"] in page.inner_text("h1")
    shot(page, f"portal-{tag}-1-courses")
    page.click("text=Lune 101")
    assert page.locator(".module-card").count() >= 7
    assert cohort_name_in(page)
    shot(page, f"portal-{tag}-2-course-map")
    page.click("text=Hash functions")
    page.wait_for_selector("article.lesson")
    assert "lune submit 01-hashing" in page.content()
    shot(page, f"portal-{tag}-3-module")
    page.set_input_files(
        "input[name=notebook]",
        str(_notebook_file(tmp_path, "01-hashing.ipynb", solved("01-hashing"))),
    )
    page.click("form[enctype] button[type=submit]")
    page.wait_for_url(re.compile(r"/submissions/\d+$"))
    shot(page, f"portal-{tag}-4-queued")
    assert _wait_for_score(page) == "12 / 12"
    assert words["feedback"] in page.content()
    shot(page, f"portal-{tag}-5-graded")
    page.goto(f"{platform.url}/learn/lune-101/progress")
    assert "12 / 12" in page.content() and page.locator("svg.chart").count() == 1
    shot(page, f"portal-{tag}-6-progress")
    assert not errors, errors
    context.close()


def cohort_name_in(page) -> bool:
    return "Marseille 2027" in page.content()


def test_learner_registers_uploads_and_sees_the_score(chromium, platform, cohort, tmp_path):
    _learner_journey(
        chromium,
        platform,
        cohort,
        tmp_path,
        locale="en-GB",
        tag="en",
        words={
            "name": "Lucas Learner",
            "email": "lucas@lune.test",
            "my_courses": "My courses",
            "feedback": "Feedback",
        },
    )


def test_the_same_journey_in_french(chromium, platform, cohort, tmp_path):
    _learner_journey(
        chromium,
        platform,
        cohort,
        tmp_path,
        locale="fr-FR",
        tag="fr",
        words={
            "name": "Camille Apprenante",
            "email": "camille@lune.test",
            "my_courses": "Mes cours",
            "feedback": "Retour",
        },
    )


def test_a_forged_notebook_scores_zero_for_that_exercise(chromium, platform, cohort, tmp_path):
    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    _register(page, platform, cohort, "Mallory Forger", "mallory@lune.test")
    page.goto(f"{platform.url}/learn/lune-101/01-hashing")
    page.set_input_files(
        "input[name=notebook]", str(_notebook_file(tmp_path, "01-hashing.ipynb", forged()))
    )
    page.click("form[enctype] button[type=submit]")
    assert _wait_for_score(page) == "9 / 12"
    html = page.content()
    forged_section = page.locator("section.exercise", has_text="sha256_hex")
    assert "0 / 3" in forged_section.inner_text()
    for hidden in ("BEGIN HIDDEN TESTS", "NIST CAVP", "SHA256ShortMsg"):
        assert hidden not in html
    shot(page, "portal-forged-feedback")
    context.close()


def test_instructor_overrides_a_score_and_exports_grades(chromium, platform, cohort, tmp_path):
    context = chromium.new_context(locale="en-GB", accept_downloads=True)
    page = context.new_page()
    page.goto(f"{platform.url}/login")
    page.fill("input[name=email]", "prof@lune.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{platform.url}/instruct/cohorts/{cohort['id']}")
    grid = page.inner_text("#grid")
    assert "Lucas Learner" in grid and "Mallory Forger" in grid
    shot(page, "portal-instructor-1-grid")
    row = page.locator("#grid tr", has_text="Mallory Forger")
    row.locator("td.cell a").first.click()
    page.wait_for_selector("#audit")
    page.fill("input[name=score]", "10")
    page.fill("textarea[name=reason]", "Exercise 1 discussed in class: partial credit.")
    page.click("form[action$=override] button[type=submit]")
    page.wait_for_selector("#audit >> text=partial credit")
    audit = page.inner_text("#audit")
    assert "Pauline Prof" in audit and "9" in audit and "10" in audit
    assert page.inner_text("#score") == "10"
    shot(page, "portal-instructor-2-override")
    page.goto(f"{platform.url}/instruct/cohorts/{cohort['id']}")
    with page.expect_download() as info:
        page.click("text=Export grades (CSV, nbgrader columns)")
    rows = list(csv.DictReader(io.StringIO(info.value.path().read_text())))
    assert list(rows[0]) == [
        "assignment",
        "duedate",
        "timestamp",
        "student_id",
        "last_name",
        "first_name",
        "email",
        "raw_score",
        "late_submission_penalty",
        "score",
        "max_score",
    ]
    mallory = [
        r for r in rows if r["email"] == "mallory@lune.test" and r["assignment"] == "01-hashing"
    ]
    assert mallory and float(mallory[0]["score"]) == 10.0
    assert float(mallory[0]["raw_score"]) == 9.0
    context.close()


def test_learner_markup_never_runs_in_the_instructors_browser(chromium, platform, cohort, tmp_path):
    """A learner's name, file name and test output full of markup, opened by the instructor."""
    evil = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'
    nb = json.loads(solved("01-hashing"))
    for cell in nb["cells"]:
        if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "sha256_hex":
            cell["source"] = f"def sha256_hex(data):\n    return {evil!r}\n"
    learner = chromium.new_context(locale="en-GB")
    page = learner.new_page()
    _register(page, platform, cohort, evil[:100], "eve@lune.test")
    page.goto(f"{platform.url}/learn/lune-101/01-hashing")
    page.set_input_files(
        "input[name=notebook]",
        str(_notebook_file(tmp_path, f"{evil[:60]}.ipynb", json.dumps(nb).encode())),
    )
    page.click("form[enctype] button[type=submit]")
    _wait_for_score(page)
    learner.close()

    context = chromium.new_context(locale="en-GB")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{platform.url}/login")
    page.fill("input[name=email]", "prof@lune.test")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.goto(f"{platform.url}/instruct/cohorts/{cohort['id']}")
    page.locator("#grid tr", has_text="onerror").locator("td.cell a").first.click()
    page.wait_for_selector("#audit")
    assert page.evaluate("window.__pwned") is None
    assert "onerror" in page.inner_text("h1")  # shown as text, not markup
    shot(page, "portal-instructor-3-markup-inert")
    assert not dialogs
    context.close()
