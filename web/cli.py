"""The `lune` command line: one root group composed of the groups each package owns.

`sandbox_chain.cli` owns `lune chain`, `grader.cli` owns `lune course` / `lune grade`,
and the portal's own commands live here. Errors the user can fix end as a one-line message
and a non-zero exit (click's `ClickException`), never a traceback.
"""

from __future__ import annotations

import click

from grader.cli import grade
from grader.course.cli import course, lab
from sandbox_chain.cli import chain
from web.commands import portal, submit, worker
from web.credentials.cli import cert
from web.quiz.cli import quiz


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="lune-academy", prog_name="lune")
def main() -> None:
    """Lune Academy: an offline blockchain course with a sandbox chain."""


main.add_command(chain)
main.add_command(course)
main.add_command(lab)
main.add_command(grade)
main.add_command(cert)
main.add_command(portal)
main.add_command(worker)
main.add_command(submit)
main.add_command(quiz)


@main.command()
@click.option(
    "--datadir",
    type=click.Path(file_okay=False),
    default=".lune/demo",
    show_default=True,
    help="Where the demo keeps its chain and portal data.",
)
@click.option("--blocks", type=click.IntRange(1, 1000), default=10, show_default=True)
@click.option("--chain-only", is_flag=True, help="Only the chain and its node, no portal.")
def demo(datadir: str, blocks: int, chain_only: bool) -> None:
    """Set up and run the platform on embedded defaults."""
    from web.demo import run_demo

    try:
        run_demo(datadir, blocks=blocks, echo=click.echo, chain_only=chain_only)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None


if __name__ == "__main__":  # pragma: no cover
    main()
