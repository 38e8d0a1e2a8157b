"""Settings: every one documented, read in order (defaults → instance file → environment →
overrides), and a bad value named in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from web.settings import SETTINGS, SettingsError, load_settings

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_every_setting_is_documented_with_its_variable():
    text = "\n".join(p.read_text() for p in DOCS.rglob("*.md"))
    missing = [s.env_name for s in SETTINGS if f"`{s.env_name}`" not in text]
    assert not missing, f"settings missing from docs/: {missing}"


def test_the_order_defaults_file_environment_overrides(tmp_path, monkeypatch):
    (tmp_path / "portal.toml").write_text('BASE_URL = "https://from.file"\nSWEEP_SECONDS = 7\n')
    monkeypatch.setenv("LUNE_SWEEP_SECONDS", "11")
    values = load_settings({"INSTANCE_PATH": str(tmp_path)})
    assert values["BASE_URL"] == "https://from.file"
    assert values["SWEEP_SECONDS"] == 11  # the environment beats the file
    assert values["UPLOAD_MAX_BYTES"] == 8 * 1024 * 1024  # the default
    assert load_settings({"INSTANCE_PATH": str(tmp_path), "SWEEP_SECONDS": 3})["SWEEP_SECONDS"] == 3
    assert values["DATABASE_URL"] == f"sqlite:///{tmp_path / 'portal.db'}"


@pytest.mark.parametrize("name,value", [("LUNE_SWEEP_SECONDS", "soon"), ("LUNE_SANDBOX", "maybe")])
def test_a_bad_environment_value_is_named(tmp_path, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(SettingsError, match=f"{name}={value!r}"):
        load_settings({"INSTANCE_PATH": str(tmp_path)})


def test_an_unknown_key_in_the_instance_file_is_named(tmp_path):
    (tmp_path / "portal.toml").write_text("SWEEP_SECNDS = 3\n")
    with pytest.raises(SettingsError, match="unknown setting 'SWEEP_SECNDS'"):
        load_settings({"INSTANCE_PATH": str(tmp_path)})


def test_the_cli_says_what_is_wrong_in_one_line(tmp_path):
    from click.testing import CliRunner

    from web.cli import main

    (tmp_path / "portal.toml").write_text("not = [valid toml\n")
    r = CliRunner().invoke(main, ["portal", "init", "--instance", str(tmp_path)])
    assert r.exit_code == 1 and "not valid TOML" in r.output and "Traceback" not in r.output
