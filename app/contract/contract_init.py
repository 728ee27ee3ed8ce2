"""Setting LeadOps up for your own CRM export: suites for a contract, and (see
:mod:`app.contract.contract_infer`) a proposed contract from a sample file.

Nothing here writes into the installed project: every file goes where ``--out`` says.
"""

from __future__ import annotations

from pathlib import Path

import expectations
import leadops
from leadops.errors import LeadOpsError

# The installed project: the core package, the bundled suites and the stages.
PROJECT_DIRS = (
    Path(leadops.__file__).resolve().parent,
    expectations.SUITES_DIR,
    Path(leadops.__file__).resolve().parent.parent / "tasks",
)


class OutputError(LeadOpsError):
    """An --out that LeadOps will not write to."""


def checked_out(out: Path, *, folder: bool) -> Path:
    """``out`` resolved, when it is outside the project and its (parent) folder exists.

    Args:
        folder: ``out`` is a folder LeadOps may create (its parent must exist); else a file.

    Raises:
        OutputError: one line naming ``out`` and why.
    """
    path = Path(out).expanduser().resolve()
    if any(path == d or path.is_relative_to(d) for d in PROJECT_DIRS):
        raise OutputError(
            f"--out {out}: inside the installed LeadOps project; choose a folder of your own"
        )
    parent = path.parent
    if not parent.is_dir():
        raise OutputError(f"--out {out}: folder {parent} does not exist")
    if not folder and path.is_dir():
        raise OutputError(f"--out {out}: is a folder; name a file")
    return path


def write_suites(out: Path) -> list[Path]:
    """Write editable leads/outcomes suites for the current contract into ``out``.

    Hand-tuned expectations of suites already in ``out`` (else of the suites the
    contract uses now) are kept when the contract has their columns.
    """
    from leadops.inputs.contract import load_contract
    from leadops.settings import get_settings
    from tasks.ingest.suites import regenerate, suites_dir_for

    settings = get_settings()
    contract = load_contract(settings.contract_path)
    folder = checked_out(out, folder=True)
    return regenerate(
        contract, folder, tuned_from=suites_dir_for(contract, settings.expectations_dir)
    )


def init_contract(samples: list[str], out: Path) -> list[str]:
    """Propose a contract from sample exports, write it to ``out`` and say why.

    Returns:
        One line per decision (what was inferred and why), then where it was written.

    Raises:
        OutputError: ``out`` exists, is in the project, or its folder does not exist.
        FileRejected / SourceError: a sample cannot be read (one line).
    """
    from app.contract.contract_infer import SAMPLE_ROWS, contract_yaml, propose
    from leadops.inputs.readers import read_chunks
    from leadops.inputs.sources import fingerprint, resolve_sources
    from leadops.settings import get_settings

    path = checked_out(out, folder=False)
    if path.exists():
        raise OutputError(f"--out {out}: already exists; move it or choose another name")
    frames = {}
    for sample in samples:
        for source in resolve_sources(sample, get_settings().s3_endpoint_url):
            chunks = read_chunks(source, fingerprint(source), SAMPLE_ROWS, malformed=[])
            frames[source.name] = next(chunks)
    proposal = propose(frames)
    name = Path(samples[0]).name.split(".")[0] or "my-crm"
    text = contract_yaml(proposal, name)
    path.write_text(text, encoding="utf-8")
    return [*proposal.reasons, f"wrote {path}: edit it, then export LEADOPS_CONTRACT_PATH={path}"]
