"""Running a learner's notebook and exercise functions in the sandbox, and reading results back.

The two sandbox jobs (see `grader/sandbox_runner.py`):

- `execute_notebook`: the notebook's code cells in an in-process IPython shell → nbformat
  outputs per cell. Cells the sandbox never reported (it was killed, or the learner called
  `os._exit`) get an error output, so their tests score 0 rather than the "no output = pass"
  nbgrader gives an empty test cell.
- `call_functions`: the learner's solution code in a fresh interpreter, exercise functions
  called on the trusted checks' inputs → plain JSON values per call.

A run that failed for a reason that is not the learner's code raises `SandboxFailure` (an
infrastructure failure, retried and never scored): the runner never said "ready" (bubblewrap,
the interpreter or IPython did not start), the sandbox was killed from outside, or the host
kept it waiting so long that the supervisor gave up. A limit the learner's code reached
(CPU time, memory, output, its own wall time) is a verdict: the cells it did not finish score 0.

Every line read back is untrusted: size-capped, parsed, and rebuilt from validated fields.
"""

from __future__ import annotations

import json
import os
import re
import resource
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from grader.errors import SandboxFailure
from grader.sandbox import IN_DIR, RESULT_FD_ENV, Bind, Limits, Sandbox, runtime_binds

RUNNER = Path(__file__).with_name("sandbox_runner.py")
#: CPU seconds a sandbox gets on top of its cells' budgets: interpreter and IPython start-up.
STARTUP_CPU_SECONDS = 10.0
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


@dataclass
class RunReport:
    """What the last sandbox run of an `Executor` said beyond its records."""

    limit_hit: str = ""  # "memory limit", "CPU time limit", … when a limit ended the run
    dropped: list[str] = field(default_factory=list)  # outputs too large to keep
    anomalies: list[str] = field(default_factory=list)


class Executor:
    """Runs the two sandbox jobs; `sandbox=None` runs them unconfined (`--unsafe-no-sandbox`)."""

    def __init__(self, sandbox: Sandbox | None, limits: Limits | None = None) -> None:
        self.sandbox = sandbox
        self.limits = limits or (sandbox.limits if sandbox else Limits())
        self.last = RunReport()

    def _run(self, mode: str, job: dict, wall: float, cpu: float) -> list[dict]:
        """Run one job; its records after the "ready" line. SandboxFailure when it never ran."""
        self.last = RunReport()
        with tempfile.TemporaryDirectory(prefix="lune-job-") as holder:
            root = Path(holder)
            in_dir = root / "in"
            in_dir.mkdir()
            in_dir.chmod(0o755)
            root.chmod(0o755)
            job_path = in_dir / "job.json"
            job_path.write_text(json.dumps(job))
            job_path.chmod(0o644)
            if self.sandbox is not None:
                res = self.sandbox.run(
                    [sys.executable, "-I", f"{IN_DIR}/runner.py", mode, f"{IN_DIR}/job.json"],
                    binds=[
                        *runtime_binds(),
                        Bind(RUNNER, f"{IN_DIR}/runner.py"),
                        Bind(job_path, f"{IN_DIR}/job.json"),
                    ],
                    wall_seconds=wall,
                    cpu_seconds=cpu,
                )
                output = res.output
                if res.host_timeout:
                    raise SandboxFailure(
                        f"the host kept the sandbox waiting for a CPU for "
                        f"{res.starved_seconds:.0f} of {res.wall_seconds:.0f} s"
                    )
                if res.returncode is not None and res.returncode < 0:
                    raise SandboxFailure(
                        f"the sandbox was killed from outside (signal {-res.returncode})"
                    )
                self.last.limit_hit = res.limit_hit
                stderr = res.stderr
            else:
                output, stderr = _run_unconfined(
                    [sys.executable, "-I", str(RUNNER), mode, str(job_path)],
                    self.limits,
                    wall,
                    cwd=root,
                )
        records = list(_records(output[: self.limits.output_bytes]))
        if not records or records[0] != {"ready": True}:
            last = stderr.strip().splitlines()
            raise SandboxFailure(
                "the sandbox did not start" + (f": {last[-1][:300]}" if last else "")
            )
        return records[1:]

    def execute_notebook(self, cells: list[tuple[int, str]], timeout: float) -> dict[int, dict]:
        """Execute `(index, source)` code cells; return {index: {"outputs", "execution_count"}}."""
        n = max(1, len(cells))
        wall = min(self.limits.wall_seconds, timeout * n + 10)
        cpu = timeout * n + STARTUP_CPU_SECONDS
        records = self._run("notebook", {"cells": cells, "timeout": timeout}, wall, cpu)
        wanted = {i for i, _ in cells}
        results: dict[int, dict] = {}
        for record in records:
            index = record.get("index")
            if type(index) is not int or index not in wanted or index in results:
                continue
            outputs = record.get("outputs")
            count = record.get("execution_count")
            results[index] = {
                "outputs": _clean_outputs(outputs if type(outputs) is list else []),
                "execution_count": count if type(count) is int else None,
            }
            dropped = record.get("dropped")
            if type(dropped) is list:
                self.last.dropped += [str(d)[:300] for d in dropped[:20]]
        return results

    def call_functions(self, program: list[str], calls: list[dict], timeout: float) -> list:
        """Run `program` then each call; one CallOutcome per call (missing → failed)."""
        n = len(program) + len(calls)
        wall = min(self.limits.wall_seconds, timeout * n + 10)
        cpu = timeout * n + STARTUP_CPU_SECONDS
        job = {"program": program, "calls": calls, "timeout": timeout}
        outcomes: list[CallOutcome | None] = [None] * len(calls)
        for record in self._run("checks", job, wall, cpu):
            i = record.get("i")
            if type(i) is not int or not 0 <= i < len(calls) or outcomes[i] is not None:
                continue
            if record.get("ok") is True and "value" in record:
                outcomes[i] = CallOutcome(True, record["value"])
            else:
                error = record.get("error")
                outcomes[i] = CallOutcome(False, error=str(error)[:100] if error else "error")
        return [o or CallOutcome(False, error="not run") for o in outcomes]


def _run_unconfined(argv: list[str], limits: Limits, wall: float, cwd: Path) -> tuple[bytes, str]:
    """The `--unsafe-no-sandbox` path: rlimits and a timeout only; learner code is NOT confined."""

    def preexec() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds))
        resource.setrlimit(resource.RLIMIT_AS, (limits.memory_bytes, limits.memory_bytes))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_size_bytes,) * 2)

    results = cwd / "results.jsonl"
    fd = os.open(results, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        proc = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=preexec,
            pass_fds=(fd,),
            env={
                "PATH": "/usr/bin:/bin",
                "HOME": str(cwd),
                "LANG": "C.UTF-8",
                RESULT_FD_ENV: str(fd),
            },
        )
    finally:
        os.close(fd)
    try:
        proc.wait(timeout=wall)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    with open(results, "rb") as f:
        return f.read(limits.output_bytes + 1), ""


def _records(data: bytes):
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
