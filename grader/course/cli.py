"""`lune course build`, `lune course check` and `lune lab`: thin click wrappers over the library."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import click

from grader.course.assignments import NbgraderError
from grader.course.build import build_course
from grader.course.check import check_course, failure_lines, render_table
from grader.course.config import DEFAULT_COURSE, CourseConfig, CourseConfigError, load_course

COURSE_ARG = click.argument("course_name", metavar="[COURSE]", required=False, default=None)


def _load(course_name: str | None) -> CourseConfig:
    try:
        return load_course(course_name)
    except CourseConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("course")
def course() -> None:
    """Build and check course content (nbgrader notebooks).

    COURSE is a course directory (holding course.toml) or the id of a course under courses/;
    the default is lune-101.
    """


def module_option(verb: str):
    """The `--module ID` option (repeatable) shared by the course commands."""
    return click.option(
        "--module",
        "module_ids",
        multiple=True,
        metavar="ID",
        help=f"{verb} only this module (repeatable). Default: every module.",
    )


@course.command("build")
@COURSE_ARG
@module_option("Build")
def build_cmd(course_name: str | None, module_ids: tuple[str, ...]) -> None:
    """Generate the learner versions of the modules into COURSE/release/."""
    cfg = _load(course_name)
    try:
        built = build_course(cfg, module_ids or None, echo=click.echo)
    except (CourseConfigError, NbgraderError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{len(built)} module(s) built in {cfg.root / 'release'}")


@course.command("check")
@COURSE_ARG
@module_option("Check")
@click.option(
    "--workers",
    type=click.IntRange(1, 16),
    default=2,
    show_default=True,
    help="Modules checked in parallel (one process each).",
)
def check_cmd(course_name: str | None, module_ids: tuple[str, ...], workers: int) -> None:
    """Execute, build and autograde every module and verify its checks file."""
    cfg = _load(course_name)
    started = time.perf_counter()
    try:
        reports = check_course(cfg, module_ids or None, workers=workers)
    except (CourseConfigError, NbgraderError) as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(render_table(reports))
    elapsed = time.perf_counter() - started
    failures = failure_lines(reports)
    click.echo(f"{len(reports)} module(s) checked in {elapsed:.1f} s")
    if failures:
        for line in failures:
            click.echo(f"FAIL {line}", err=True)
        raise click.ClickException(f"{len(failures)} check(s) failed")


@click.command("lab")
@COURSE_ARG
@click.option(
    "--workspace",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Your working folder (default: ~/lune-workspace/<course id>); your notebooks are kept.",
)
@click.option("--no-browser", is_flag=True, help="Do not open a web browser.")
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8888,
    show_default=True,
    help="JupyterLab port.",
)
def lab(course_name: str | None, workspace: Path | None, no_browser: bool, port: int) -> None:
    """Open the course in JupyterLab (on 127.0.0.1), in your own workspace."""
    from grader.course.lab import (
        default_workspace,
        lab_command_line,
        lab_environment,
        prepare_workspace,
        run_lab,
        validate_command,
    )

    cfg = _load(course_name)
    target = (workspace or default_workspace(cfg)).expanduser().resolve()
    try:
        ws = prepare_workspace(cfg, target, echo=click.echo)
    except (CourseConfigError, NbgraderError, OSError) as exc:
        raise click.ClickException(str(exc)) from None
    if ws.copied:
        click.echo(f"Copied into {target}: {', '.join(ws.copied)}")
    if ws.kept:
        click.echo(f"Kept your own copies of: {', '.join(ws.kept)}")
    if ws.missing:
        click.echo(f"Not yet available: {', '.join(ws.missing)}")
    first = cfg.modules[0].id
    click.echo(f"Validate a notebook before submitting, in {target}:")
    click.echo(f"  {validate_command(first)}   (or the Validate button in JupyterLab)")
    click.echo("Stop JupyterLab with Ctrl-C (its kernels stop with it).")
    cmd = lab_command_line(target, port, not no_browser)
    sys.exit(run_lab(cmd, lab_environment(target), cwd=target))


__all__ = ["DEFAULT_COURSE", "course", "lab"]
