"""The portal speaks French and English from the first template: every string the code and the
templates mark for translation has a French entry, not fuzzy, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

WEB = Path(__file__).resolve().parents[2] / "web"
CATALOG = WEB / "translations" / "fr" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")


def _marked() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    keywords = {"_": None, "gettext": None, "_l": None, "lazy_gettext": None, "ngettext": (1, 2)}
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
        str(WEB), method_map, keywords=keywords
    ):
        found.update([message] if isinstance(message, str) else [m for m in message if m])
    return found


def test_every_marked_string_has_a_french_translation():
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    entries = {m.id: m for m in catalog if m.id}
    marked = _marked()
    missing = sorted(m for m in marked if m not in entries or not entries[m].string)
    fuzzy = sorted(m for m in marked if m in entries and entries[m].fuzzy)
    assert not missing, f"{len(missing)} strings without French: {missing[:10]}"
    assert not fuzzy, f"fuzzy French entries: {fuzzy[:10]}"


def test_translations_keep_their_placeholders():
    with CATALOG.open("rb") as f:
        catalog = read_po(f)
    wrong = [
        m.id
        for m in catalog
        if m.id
        and isinstance(m.id, str)
        and sorted(PLACEHOLDER.findall(m.id)) != sorted(PLACEHOLDER.findall(m.string))
    ]
    assert not wrong, f"placeholders differ in: {wrong}"


def test_pages_follow_the_language_choice(client, world, auth):
    auth.login("a@lune.test")
    english = client.get("/learn/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "My courses" in english
    french = client.get("/learn/", headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    assert "Mes cours" in french.get_data(as_text=True), "no French: run `make translations`"
    # The account's own choice wins over the browser's.
    from web.extensions import db

    world.learner_a.language = "en"
    db.session.commit()
    again = client.get("/learn/", headers={"Accept-Language": "fr"}).get_data(as_text=True)
    assert "My courses" in again and 'lang="en"' in again
