"""`drillbook images build`: the images the docker backend runs, built here without a registry.

Mounted by cli.py as `app.add_typer(images_app, name="images")`; also runs on its own as
`python -m drillbook.cli_images build` (what .ci/run calls).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

images_app = typer.Typer(
    help="Images for --backend docker, built locally from Debian packages and PyPI.",
    no_args_is_help=True,
)
console = Console()


@images_app.command("build")
def build(
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="build again even when the tag exists")
    ] = False,
    only: Annotated[
        list[str],
        typer.Option("--only", help="base, postgres, moto or gateway (repeatable); default all"),
    ] = [],  # noqa: B006
    source: Annotated[
        Path | None, typer.Option(help="drillbook checkout holding docker/ and src/")
    ] = None,
) -> None:
    """Build the Debian base (mmdebstrap -> docker import), then postgres, moto and gateway.

    Tags: drillbook/postgres:15 and postgres:15 (Debian bookworm's PostgreSQL 15: it is never
    tagged as another major), drillbook/moto:<v> and motoserver/moto:<v>|latest,
    drillbook/gateway:<v>|latest. An existing tag is kept unless --rebuild.
    """
    from drillbook.images import IMAGES, build_images

    results = build_images(
        rebuild=rebuild,
        only=tuple(only) or IMAGES,
        source=source,
        log=lambda line: console.print(line, markup=False, highlight=False),
    )
    table = Table("image", "tags", "action", "seconds", "notes")
    for result in results:
        table.add_row(
            result.image,
            "\n".join(result.tags),
            result.action,
            f"{result.seconds:.0f}",
            "\n".join(result.notes),
        )
    console.print(table)


@images_app.command("list")
def list_images() -> None:
    """Which image each service kind uses on the docker backend (settings), and if it is here."""
    from drillbook.backends.docker.config import DockerSettings
    from drillbook.images import image_exists

    settings = DockerSettings.from_env()
    table = Table("service", "image", "present")
    rows = [
        ("postgres", settings.postgres_candidates(None)),
        ("s3", [settings.s3_image]),
        ("gateway", [settings.gateway_image]),
        ("command", [settings.command_image_name]),
    ]
    for kind, candidates in rows:
        present = [image for image in candidates if image_exists(image)]
        table.add_row(kind, " | ".join(candidates), ", ".join(present) or "no")
    console.print(table)


def main() -> None:
    from drillbook.cli import app
    from drillbook.cli import main as cli_main  # same error handling as the drillbook command

    app.add_typer(images_app, name="images")
    import sys

    sys.argv = [sys.argv[0], "images", *sys.argv[1:]]
    cli_main()


if __name__ == "__main__":
    main()
