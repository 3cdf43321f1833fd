"""The benchmark's smoke mode as a test: every route answers, wrk sees no error.

Not collected by the project's test run (``testpaths = ["tests"]``); run it with
``python -m pytest bench/test_smoke.py``. It needs wrk, taskset and 2 CPUs, and is skipped
without them.
"""

import os
import shutil
from pathlib import Path

import pytest

from bench import run


@pytest.mark.skipif(
    shutil.which("wrk") is None
    or shutil.which("taskset") is None
    or len(os.sched_getaffinity(0)) < 2,
    reason="needs wrk, taskset and 2 CPUs",
)
def test_smoke(tmp_path: Path) -> None:
    assert run.main(["--smoke", "--work", str(tmp_path)]) == 0
    results = sorted(tmp_path.glob("results-*.json"))
    assert len(results) == 1
