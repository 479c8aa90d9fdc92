"""``python -m lawstats`` and the ``lawstats`` command (installed by ``pip install -e .``) run the same CLI."""

from lawstats.cli import main


def run() -> None:
    try:
        raise SystemExit(main())
    except BrokenPipeError:  # output piped into `head`: stopping early is not an error
        raise SystemExit(0)


if __name__ == "__main__":
    run()
