"""Canary routing across processes: the same lead lands in the same arm everywhere."""

from __future__ import annotations

import ast
import os
import subprocess
import sys

from tasks.scoring.routing import canary_position

IDS = [f"L{i:09d}" for i in range(5)]


def test_same_lead_lands_in_the_same_arm_in_another_process() -> None:
    # Python's hash() differs per process; the routing must not.
    here = [canary_position(i, "42") for i in IDS]
    code = (
        "from tasks.scoring.routing import canary_position;"
        f"print([canary_position(i, '42') for i in {IDS!r}])"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        check=True,
        cwd=os.getcwd(),
    ).stdout
    assert ast.literal_eval(out) == here
