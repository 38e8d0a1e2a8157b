"""Every page a signed-in learner, instructor and admin opens renders (the smoke of the portal)."""

from __future__ import annotations

import pytest

LEARNER_PAGES = [
    "/learn/",
    "/learn/lune-101/",
    "/learn/lune-101/01-hashing",
    "/learn/lune-101/progress",
    "/account",
]


@pytest.mark.parametrize("path", LEARNER_PAGES)
def test_learner_pages_render(client, world, auth, path):
    auth.login("a@lune.test")
    r = client.get(path)
    assert r.status_code == 200, r.get_data(as_text=True)[-2000:]
    assert "Alice" in r.get_data(as_text=True) or path != "/account"


def test_module_page_shows_the_lesson_and_the_ways_to_submit(client, world, auth):
    auth.login("a@lune.test")
    html = client.get("/learn/lune-101/01-hashing").get_data(as_text=True)
    assert "lune submit 01-hashing" in html
    assert "lune lab" in html
    assert 'class="lesson"' in html and "SHA-256" in html
    assert "BEGIN SOLUTION" not in html  # the learner version, never the source


def test_instructor_sees_their_cohort_grid(client, world, auth):
    auth.login("inst1@lune.test")
    html = client.get(f"/instruct/cohorts/{world.cohort1.id}").get_data(as_text=True)
    assert "Alice Martin" in html and "Bruno Petit" in html
    assert "Chloé Durand" not in html


@pytest.mark.parametrize("path", ["/admin/users", "/admin/courses", "/admin/status"])
def test_admin_pages_render(client, world, auth, path):
    auth.login("admin@lune.test")
    assert client.get(path).status_code == 200


def test_download_is_the_learner_notebook(client, world, auth):
    import json

    auth.login("a@lune.test")
    r = client.get("/learn/lune-101/01-hashing/notebook")
    assert r.status_code == 200
    assert "attachment" in r.headers["Content-Disposition"]
    nb = json.loads(r.data)
    assert nb["nbformat"] == 4
    assert "raise NotImplementedError" in r.get_data(as_text=True)
