"""`lune quiz …`: check a course's question banks and quizzes, export them for Moodle."""

from __future__ import annotations

from pathlib import Path

import click

from grader.course.config import CourseConfigError, resolve_course_dir
from web.quiz.banks import LANGUAGES, load_banks
from web.quiz.check import check_course
from web.quiz.gift_writer import GiftWriteError, write_gift

COURSE_ARG = click.argument("course_name", metavar="[COURSE]", required=False, default=None)


def _course_dir(course_name: str | None) -> Path:
    try:
        return resolve_course_dir(course_name)
    except CourseConfigError as exc:
        raise click.ClickException(str(exc)) from None


@click.group("quiz")
def quiz() -> None:
    """Certification quizzes: GIFT question banks and the [[quiz]] tables of course.toml.

    COURSE is a course directory (holding course.toml) or the id of a course under courses/;
    the default is lune-101.
    """


@quiz.command("check")
@COURSE_ARG
def check_cmd(course_name: str | None) -> None:
    """Check every bank and quiz of COURSE; one line per problem, non-zero exit if any."""
    report = check_course(_course_dir(course_name))
    for line in report.problems:
        click.echo(line, err=True)
    if not report.ok:
        raise click.ClickException(f"{report.course_id}: {len(report.problems)} problem(s)")
    click.echo(
        f"{report.course_id}: {report.banks} bank(s), {report.questions} question(s), "
        f"{len(report.quizzes)} quiz(zes): OK"
    )


@quiz.command("export")
@COURSE_ARG
@click.option(
    "--lang", type=click.Choice(LANGUAGES), default="en", show_default=True, help="Bank language."
)
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    required=True,
    help="The GIFT file to write (import it in Moodle: Question bank → Import → GIFT).",
)
def export_cmd(course_name: str | None, lang: str, output: Path) -> None:
    """Write every module's bank in one language as a single GIFT file for Moodle."""
    banks = load_banks(_course_dir(course_name))
    if banks.problems:
        raise click.ClickException(banks.problems[0])
    questions = [
        q
        for (module, bank_lang), bank in sorted(banks.banks.items())
        if bank_lang == lang
        for q in bank.questions
    ]
    if not questions:
        raise click.ClickException(f"no {lang} question banks")
    try:
        text = write_gift(questions)
    except GiftWriteError as exc:
        raise click.ClickException(str(exc)) from None
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(output)
    click.echo(f"{len(questions)} question(s) written to {output}")
