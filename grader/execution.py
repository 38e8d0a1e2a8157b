"""Running a learner's notebook and exercise functions in the sandbox, and reading results back.

The two sandbox jobs (see `grader/sandbox_runner.py`):

- `execute_notebook`: the notebook's code cells in an in-process IPython shell → nbformat
  outputs per cell. Cells the sandbox never reported (it was killed, or the learner called
  `os._exit`) get an error output, so their tests score 0 rather than the "no output = pass"
  nbgrader gives an empty test cell.
- `call_functions`: the learner's solution code in a fresh interpreter, exercise functions
  called on the trusted checks' inputs → plain JSON values per call.

Every line read back is untrusted: size-capped, parsed, and rebuilt from validated fields.
"""

from __future__ import annotations

import json
import re
import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from grader.sandbox import IN_DIR, OUT_DIR, Bind, Limits, Sandbox, read_output, runtime_binds

RUNNER = Path(__file__).with_name("sandbox_runner.py")
MAX_RESULT_BYTES = 16 * 1024 * 1024
MAX_TEXT = 64 * 1024
_OUTPUT_TYPES = {"stream", "execute_result", "display_data", "error"}
# Inert MIME types only: the autograded notebook is rendered as HTML by nbgrader's formgrader
# (nbconvert, unsanitized), so learner text/html, javascript, svg, markdown or latex output
# would run script in the instructor's Jupyter session.
_SAFE_TEXT_MIME = {"text/plain", "application/json"}
_IMAGE_MIME = {"image/png", "image/jpeg", "image/gif"}
_BASE64 = re.compile(r"[A-Za-z0-9+/=\s]*")


@dataclass
class CallOutcome:
    """One exercise function call: `ok` and its JSON `value`, or the exception's type name."""

    ok: bool
    value: object = None
    error: str = ""


class Executor:
    """Runs the two sandbox jobs; `sandbox=None` runs them unconfined (`--unsafe-no-sandbox`)."""

    def __init__(self, sandbox: Sandbox | None, limits: Limits | None = None) -> None:
        self.sandbox = sandbox
        self.limits = limits or (sandbox.limits if sandbox else Limits())
        self.last_anomalies: list[str] = []
        self.last_timed_out = False

    def _run(self, mode: str, job: dict, wall: float) -> tuple[Path, tempfile.TemporaryDirectory]:
        holder = tempfile.TemporaryDirectory(prefix="lune-job-")
        root = Path(holder.name)
        in_dir, out_dir = root / "in", root / "out"
        in_dir.mkdir()
        out_dir.mkdir()
        in_dir.chmod(0o755)
        root.chmod(0o755)
        job_path = in_dir / "job.json"
        job_path.write_text(json.dumps(job))
        job_path.chmod(0o644)
        if self.sandbox is not None:
            res = self.sandbox.run(
                [sys.executable, "-I", f"{IN_DIR}/runner.py", mode, f"{IN_DIR}/job.json", OUT_DIR],
                binds=[
                    *runtime_binds(),
                    Bind(RUNNER, f"{IN_DIR}/runner.py"),
                    Bind(job_path, f"{IN_DIR}/job.json"),
                ],
                out_dir=out_dir,
                wall_seconds=wall,
            )
            self.last_anomalies = res.anomalies
            self.last_timed_out = res.timed_out
        else:
            self.last_anomalies = []
            self.last_timed_out = _run_unconfined(
                [sys.executable, "-I", str(RUNNER), mode, str(job_path), str(out_dir)],
                self.limits,
                wall,
                cwd=root,
            )
        return out_dir, holder

    def execute_notebook(self, cells: list[tuple[int, str]], timeout: float) -> dict[int, dict]:
        """Execute `(index, source)` code cells; return {index: {"outputs", "execution_count"}}."""
        wall = min(self.limits.wall_seconds, timeout * max(1, len(cells)) + 10)
        out_dir, holder = self._run("notebook", {"cells": cells, "timeout": timeout}, wall)
        with holder:
            wanted = {i for i, _ in cells}
            results: dict[int, dict] = {}
            for record in _read_lines(out_dir, "cells.jsonl"):
                index = record.get("index")
                if type(index) is not int or index not in wanted or index in results:
                    continue
                outputs = record.get("outputs")
                count = record.get("execution_count")
                results[index] = {
                    "outputs": _clean_outputs(outputs if type(outputs) is list else []),
                    "execution_count": count if type(count) is int else None,
                }
        return results

    def call_functions(self, program: list[str], calls: list[dict], timeout: float) -> list:
        """Run `program` then each call; one CallOutcome per call (missing → failed)."""
        wall = min(self.limits.wall_seconds, timeout * (len(program) + len(calls)) + 10)
        job = {"program": program, "calls": calls, "timeout": timeout}
        out_dir, holder = self._run("checks", job, wall)
        outcomes: list[CallOutcome | None] = [None] * len(calls)
        with holder:
            for record in _read_lines(out_dir, "calls.jsonl"):
                i = record.get("i")
                if type(i) is not int or not 0 <= i < len(calls) or outcomes[i] is not None:
                    continue
                if record.get("ok") is True and "value" in record:
                    outcomes[i] = CallOutcome(True, record["value"])
                else:
                    error = record.get("error")
                    outcomes[i] = CallOutcome(False, error=str(error)[:100] if error else "error")
        return [o or CallOutcome(False, error="not run") for o in outcomes]


def _run_unconfined(argv: list[str], limits: Limits, wall: float, cwd: Path) -> bool:
    """The `--unsafe-no-sandbox` path: rlimits and a timeout only; learner code is NOT confined."""

    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_bytes,) * 2)

    proc = subprocess.Popen(
        argv,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=preexec,
        env={"PATH": "/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"},
    )
    start = time.monotonic()
    try:
        proc.wait(timeout=wall)
        return False
    except subprocess.TimeoutExpired:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        return time.monotonic() - start >= wall


def _read_lines(out_dir: Path, name: str):
    data = read_output(out_dir, name, MAX_RESULT_BYTES)
    if not data:
        return
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (ValueError, RecursionError):
            continue
        if type(record) is dict:
            yield record


def _text(value) -> str | None:
    if type(value) is str:
        return value[:MAX_TEXT]
    if type(value) is list and all(type(v) is str for v in value):
        return "".join(value)[:MAX_TEXT]
    return None


def _mime_bundle(data) -> dict:
    bundle = {}
    if type(data) is not dict:
        return bundle
    for key, value in list(data.items())[:20]:
        if key in _IMAGE_MIME:
            # Inserted into an <img src="data:..."> attribute: base64 characters only.
            if (text := _text(value)) is not None and _BASE64.fullmatch(text):
                bundle[key] = text
            continue
        if key not in _SAFE_TEXT_MIME:
            continue
        if key == "application/json":
            try:
                if len(json.dumps(value)) <= MAX_TEXT:
                    bundle[key] = value
            except (TypeError, ValueError, RecursionError):
                continue
        elif (text := _text(value)) is not None:
            bundle[key] = text
    return bundle


def _clean_outputs(outputs: list) -> list[dict]:
    """Rebuild nbformat outputs from untrusted records, keeping only valid, capped fields."""
    clean: list[dict] = []
    for out in outputs[:100]:
        if type(out) is not dict or out.get("output_type") not in _OUTPUT_TYPES:
            continue
        kind = out["output_type"]
        if kind == "stream":
            name, text = out.get("name"), _text(out.get("text"))
            if name in ("stdout", "stderr") and text is not None:
                clean.append({"output_type": "stream", "name": name, "text": text})
        elif kind == "error":
            tb = out.get("traceback")
            tb = (
                [line[:MAX_TEXT] for line in tb[:200] if type(line) is str]
                if type(tb) is list
                else []
            )
            clean.append(
                {
                    "output_type": "error",
                    "ename": (_text(out.get("ename")) or "Error")[:200],
                    "evalue": _text(out.get("evalue")) or "",
                    "traceback": tb,
                }
            )
        else:
            item = {"output_type": kind, "data": _mime_bundle(out.get("data")), "metadata": {}}
            if kind == "execute_result":
                count = out.get("execution_count")
                item["execution_count"] = count if type(count) is int else None
            clean.append(item)
    return clean
