"""The ``leadops`` command line: ``main()`` runs the Typer app and turns any failure into one line.

The commands live in modules by concern (ingest, contract, model, rollout, server commands);
importing them registers them on ``app``, in the order ``--help`` lists them. Start-up
stays light: heavy libraries are imported inside each command, never at module level.
Failures print one line and exit non-zero; the traceback goes to the debug log.
"""

from __future__ import annotations

import atexit
import gc
import json
import logging
import sys

import typer

from app.cli.root import app

# Imported for their @app.command registrations; the order is the order of --help.
# isort: off
from app.cli import ingest_commands  # noqa: F401
from app.cli import contract_commands  # noqa: F401
from app.cli import model_commands  # noqa: F401
from app.cli import rollout_commands  # noqa: F401
from app.cli import server_commands  # noqa: F401

# isort: on

log = logging.getLogger("app.cli.main")

__all__ = ["app", "main"]


def _no_gc_at_exit() -> None:
    """The command is done: skip the cyclic GC that interpreter exit would still run over
    every object of GX, Prefect, MLflow and pandas (~1.7 s of an 8 s `leadops ingest`).

    Registered first, so it runs after every other exit handler (Prefect's log and event
    flushes included); flushing and module teardown still run as usual.
    """
    gc.disable()
    gc.freeze()


def main() -> None:
    """Entry point: run the app; any failure becomes one line and exit code 1."""
    from leadops import progress

    atexit.unregister(_no_gc_at_exit)  # once per process, even when main() runs in-process
    atexit.register(_no_gc_at_exit)
    if sys.stderr.isatty() and "--json" not in sys.argv:  # never in CI logs or JSON output
        progress.enable(sys.stderr)
    # typer >= 0.29 vendors Click: its exceptions are these classes, not the click package's.
    from typer._click import exceptions as click_errors

    try:
        # Not standalone: Click would print its usage box for a bad option value and
        # "Aborted!" for an EOFError (it reads one as Ctrl-D); both become our one line.
        code = app(standalone_mode=False)
    except SystemExit:
        raise
    except click_errors.NoArgsIsHelpError as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click_errors.ClickException as exc:
        _error_line(exc.format_message())
        sys.exit(exc.exit_code)
    except (KeyboardInterrupt, typer.Abort) as exc:
        if isinstance(exc.__cause__, EOFError):
            _fail(exc.__cause__)
        typer.echo("leadops: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # every failure reaches the user as one line
        _fail(exc)
    # typer.Exit(code) returns its code when not standalone; exit as Click's own main does.
    sys.exit(code if isinstance(code, int) else 0)


def _fail(exc: BaseException) -> None:
    from leadops import progress
    from leadops.errors import one_line

    log.debug("leadops command failed", exc_info=exc)
    progress.clear()
    _error_line(one_line(exc))
    sys.exit(1)


def _error_line(message: str) -> None:
    """The one error line on stderr; with --json also a JSON error object as stdout's last line,
    so a script reading the last line gets one on failure too."""
    typer.echo(f"leadops: error: {message}", err=True)
    if "--json" in sys.argv[1:]:
        typer.echo(json.dumps({"error": message, "ok": False}))


if __name__ == "__main__":
    main()
