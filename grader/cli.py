"""`lune grade`: grade a cohort's submissions of one module (thin shell over grader.cohort)."""

from __future__ import annotations

from pathlib import Path

import click

from grader.course.config import DEFAULT_COURSE
from grader.errors import GraderError


@click.command()
@click.argument("module")
@click.option(
    "--course",
    "course_name",
    default=DEFAULT_COURSE,
    show_default=True,
    help="The course: a directory with course.toml, source/ and checks/, or a course id.",
)
@click.option(
    "--submissions",
    type=click.Path(exists=True, path_type=Path),
    required=True,
    help="A folder of <learner>.ipynb files or an LMS-style zip.",
)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option("--csv", "csv_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--json", "json_out", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--workdir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Grading workspace (gradebook, feedback, ledger); default .lune/grading/<course>.",
)
@click.option("--force", is_flag=True, help="Regrade submissions already in the ledger.")
@click.option(
    "--unsafe-no-sandbox",
    is_flag=True,
    help="Run learner code without the sandbox (only for trusted submissions).",
)
def grade(
    module: str,
    course_name: str,
    submissions: Path,
    workers: int,
    csv_out: Path | None,
    json_out: Path | None,
    workdir: Path | None,
    force: bool,
    unsafe_no_sandbox: bool,
) -> None:
    """Grade every submission of MODULE in the sandbox; print a summary table."""
    from grader.cohort import grade_cohort
    from grader.course.config import resolve_course_dir
    from grader.report import summary_table, to_csv, to_json, write_text

    if unsafe_no_sandbox:
        click.echo("warning: learner code runs WITHOUT the sandbox", err=True)
    try:
        report = grade_cohort(
            resolve_course_dir(course_name),
            module,
            submissions,
            workers=workers,
            sandbox=not unsafe_no_sandbox,
            workdir=workdir,
            force=force,
        )
    except GraderError as exc:
        raise click.ClickException(str(exc)) from None
    for line in report.skipped:
        click.echo(f"skipped {line}", err=True)
    click.echo(summary_table(module, report.results), nl=False)
    click.echo(
        f"{report.graded} graded, {report.cached} unchanged (skipped) in {report.seconds:.1f} s"
    )
    if csv_out:
        write_text(csv_out, to_csv(report.results))
    if json_out:
        write_text(json_out, to_json(module, report.results, report.attempts))
