"""What runs INSIDE the grading sandbox. Standalone: imports only the standard library and IPython.

Two modes, each in its own fresh sandbox and interpreter; both write JSON lines to the results
pipe (file descriptor `$LUNE_RESULT_FD`), the first of which is `{"ready": true}` once the
interpreter and IPython are loaded and before any learner code runs — so a sandbox that never
says "ready" failed for a reason that is not the learner's:

``notebook JOB``
    Execute the code cells of a (sanitized, output-free) notebook in order in an in-process
    IPython `InteractiveShell`, the same shell class ipykernel runs, without the kernel's
    ZMQ layer. Each executed cell writes one line `{"index", "execution_count", "outputs"}`
    with nbformat outputs (stream, execute_result, display_data, error) — what nbclient would
    have stored — after outputs too large to keep are replaced by a note (`dropped` lists
    them). A cell that uses more than its CPU-time budget, or whose elapsed time less the
    time the host kept it waiting for a CPU passes the generous wall bound, gets nbgrader's
    `CellTimeoutError` output and execution continues, as nbgrader's Execute does with
    `interrupt_on_timeout`.

``checks JOB``
    Exec the learner's solution code (and the notebook's own set-up cells) in a fresh
    interpreter, call the exercise functions on the inputs listed in JOB and write one line
    per call. Values are encoded with exact type checks (`encode`: `type(x) is int`, ...), so
    an object that pretends to equal anything cannot pass. The expected values are never here:
    trusted code outside the sandbox compares them. `lune course check` encodes a solution's
    values with the same `encode`, so what the course check accepts, grading accepts.

Everything written here is untrusted by the grader: it re-validates every line it reads.
"""

from __future__ import annotations

import io
import json
import os
import signal
import sys
import time

MAX_TEXT = 64 * 1024
MAX_VALUE_ITEMS = 100_000
MAX_DEPTH = 32
#: One output (one MIME bundle or stream) larger than this is replaced by a note.
MAX_OUTPUT_BYTES = 1024 * 1024
#: A cell's outputs together larger than this are replaced by a note.
MAX_CELL_OUTPUT_BYTES = 4 * 1024 * 1024
#: The per-cell wall bound, as a multiple of the CPU budget (plus WALL_SLACK seconds).
WALL_FACTOR = 3.0
WALL_SLACK = 5.0

# nbgrader's Execute.error_on_timeout output.
TIMEOUT_OUTPUT = {
    "output_type": "error",
    "ename": "CellTimeoutError",
    "evalue": "",
    "traceback": ["\x1b[0;31mCellTimeoutError\x1b[0m: No reply from kernel before timeout"],
}


class CellTimeout(BaseException):
    """Raised by the per-cell alarm (BaseException so a bare `except Exception` cannot eat it)."""


def _waited() -> float:
    """Seconds this process has spent runnable but waiting for a CPU (proc(5) schedstat)."""
    try:
        with open("/proc/self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class _Budget:
    """A cell's time budget: CPU seconds (ITIMER_PROF), and a wall bound that does not count
    the time the host made the cell wait (ITIMER_REAL, re-armed while the host is to blame)."""

    def __init__(self) -> None:
        self.wall = 0.0
        self.start = 0.0
        self.waited = 0.0

    def _on_wall(self, _signum, _frame):
        own = (time.monotonic() - self.start) - (_waited() - self.waited)
        if own < self.wall:
            signal.setitimer(signal.ITIMER_REAL, max(0.05, self.wall - own))
            return
        raise CellTimeout()

    def arm(self, cpu_seconds: float) -> None:
        self.wall = cpu_seconds * WALL_FACTOR + WALL_SLACK
        self.start, self.waited = time.monotonic(), _waited()
        signal.signal(signal.SIGPROF, _cpu_spent)
        signal.signal(signal.SIGALRM, self._on_wall)
        signal.setitimer(signal.ITIMER_PROF, cpu_seconds)
        signal.setitimer(signal.ITIMER_REAL, self.wall)

    def disarm(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.setitimer(signal.ITIMER_REAL, 0)


def _cpu_spent(_signum, _frame):
    raise CellTimeout()


_BUDGET = _Budget()


def _arm(seconds: float) -> None:
    _BUDGET.arm(seconds)


def _disarm() -> None:
    _BUDGET.disarm()


_RESULT_FD = -1


def _append(record: dict) -> None:
    data = (json.dumps(record, ensure_ascii=True) + "\n").encode("ascii")
    while data:
        data = data[os.write(_RESULT_FD, data) :]


# --------------------------------------------------------------------------- notebook mode


class _CellStream(io.TextIOBase):
    """sys.stdout / sys.stderr replacement: text becomes nbformat `stream` outputs."""

    def __init__(self, name: str, sink: list) -> None:
        self.name_ = name
        self.sink = sink

    def writable(self) -> bool:
        return True

    def write(self, text) -> int:
        text = str(text)
        outputs = self.sink[0]
        if (
            outputs
            and outputs[-1].get("output_type") == "stream"
            and (outputs[-1]["name"] == self.name_)
        ):
            if len(outputs[-1]["text"]) < MAX_TEXT:
                outputs[-1]["text"] += text[:MAX_TEXT]
        else:
            outputs.append({"output_type": "stream", "name": self.name_, "text": text[:MAX_TEXT]})
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def _make_shell(sink: list):
    from IPython.core.displayhook import DisplayHook
    from IPython.core.displaypub import DisplayPublisher
    from IPython.core.interactiveshell import InteractiveShell
    from traitlets.config import Config

    class RecordingDisplayHook(DisplayHook):
        # As ipykernel's ZMQShellDisplayHook: the last expression becomes an execute_result.
        def start_displayhook(self):
            self._record = {"output_type": "execute_result", "metadata": {}, "data": {}}

        def write_output_prompt(self):
            self._record["execution_count"] = self.shell.execution_count

        def write_format_data(self, format_dict, md_dict=None):
            self._record["data"] = format_dict
            self._record["metadata"] = md_dict or {}

        def finish_displayhook(self):
            sink[0].append(self._record)

    class RecordingPublisher(DisplayPublisher):
        def publish(self, data, metadata=None, source=None, *, transient=None, update=False, **kw):
            sink[0].append(
                {"output_type": "display_data", "data": data, "metadata": metadata or {}}
            )

        def clear_output(self, wait=False):
            sink[0].clear()

    config = Config()
    config.HistoryManager.hist_file = ":memory:"
    config.HistoryManager.enabled = False
    # Plain tracebacks: highlighting costs ~50 ms per failing cell and scores nothing.
    config.InteractiveShell.colors = "NoColor"
    shell = InteractiveShell.instance(
        config=config, displayhook_class=RecordingDisplayHook, display_pub_class=RecordingPublisher
    )

    def record_error(etype, evalue, stb):
        if etype is CellTimeout:
            sink[0].append(dict(TIMEOUT_OUTPUT))
            return
        sink[0].append(
            {
                "output_type": "error",
                "ename": getattr(etype, "__name__", str(etype)),
                "evalue": str(evalue)[:MAX_TEXT],
                "traceback": [str(line)[:MAX_TEXT] for line in stb][:200],
            }
        )

    shell._showtraceback = record_error
    return shell


def _size(value) -> int:
    try:
        return len(json.dumps(value, ensure_ascii=True))
    except (TypeError, ValueError, RecursionError):
        return MAX_CELL_OUTPUT_BYTES + 1


def _note(text: str) -> dict:
    # stdout, not stderr: any stderr output in a test cell scores it 0 in nbgrader.
    return {"output_type": "stream", "name": "stdout", "text": text + "\n"}


def cap_outputs(outputs: list) -> tuple[list, list[str]]:
    """Outputs with each one too large to keep replaced by a note; and what was dropped.

    A plot or image of several megabytes is an honest thing to display; it must not push the
    results past the sandbox's quota and cost the learner the cells after it.
    """
    kept: list = []
    dropped: list[str] = []
    total = 0
    for out in outputs:
        size = _size(out)
        kind = out.get("output_type", "output") if isinstance(out, dict) else "output"
        if size > MAX_OUTPUT_BYTES or total + size > MAX_CELL_OUTPUT_BYTES:
            mime = ""
            if isinstance(out, dict) and isinstance(out.get("data"), dict):
                mime = ", ".join(sorted(str(k) for k in out["data"]))[:200]
            what = f"{kind} ({mime})" if mime else kind
            dropped.append(f"{what}: {size / 2**20:.1f} MiB")
            kept.append(
                _note(
                    f"[output not kept: {what} of {size / 2**20:.1f} MiB is over the "
                    f"{MAX_OUTPUT_BYTES // 2**20} MiB limit per output]"
                )
            )
            continue
        total += size
        kept.append(out)
    return kept, dropped


def run_notebook(job: dict) -> None:
    sink: list = [[]]
    shell = _make_shell(sink)
    sys.stdout = _CellStream("stdout", sink)
    sys.stderr = _CellStream("stderr", sink)
    timeout = float(job.get("timeout", 60))
    _append({"ready": True})
    for index, source in job["cells"]:
        sink[0] = []
        _append({"start": index})
        try:
            _arm(timeout)
            try:
                shell.run_cell(source, store_history=True)
            finally:
                _disarm()
        except CellTimeout:
            sink[0].append(dict(TIMEOUT_OUTPUT))
        record = {"index": index, "execution_count": shell.execution_count - 1}
        record["outputs"], dropped = cap_outputs(sink[0])
        if dropped:
            record["dropped"] = dropped
        try:
            _append(record)
        except (TypeError, ValueError):
            record["outputs"] = [
                {"output_type": "error", "ename": "OutputError", "evalue": "", "traceback": []}
            ]
            _append(record)


# ----------------------------------------------------------------------------- checks mode


class Unencodable(TypeError):
    """A value outside the course contract's plain JSON values (exact types only)."""


def decode(value):
    """JSON → Python per the course contract: {"$bytes": hex} is bytes; lists stay lists."""
    if isinstance(value, dict):
        if set(value) == {"$bytes"} and isinstance(value["$bytes"], str):
            return bytes.fromhex(value["$bytes"])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def encode(value, depth: int = 0, budget: list | None = None):
    """Python → JSON with exact types only; anything else (subclasses included) is refused."""
    budget = budget if budget is not None else [MAX_VALUE_ITEMS]
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        raise Unencodable("value too large")
    kind = type(value)
    if value is None or kind is bool or kind is int or kind is str:
        return value
    if kind is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise Unencodable("non-finite float")
        return value
    if kind is bytes:
        return {"$bytes": value.hex()}
    if kind is list or kind is tuple:
        return [encode(v, depth + 1, budget) for v in value]
    if kind is dict:
        out = {}
        for k, v in value.items():
            if type(k) is not str:
                raise Unencodable("dict key is not a str")
            out[k] = encode(v, depth + 1, budget)
        return out
    raise Unencodable(f"type {kind.__name__} is not a plain JSON value")


def _to_python(source: str) -> str:
    try:
        compile(source, "<cell>", "exec")
        return source
    except SyntaxError:
        # Magics (%time, !cmd) become get_ipython() calls, as IPython would run them.
        from IPython.core.inputtransformer2 import TransformerManager

        return TransformerManager().transform_cell(source)


def run_checks(job: dict) -> None:
    sys.stdout = io.StringIO()
    sys.stderr = io.StringIO()
    namespace: dict = {"__name__": "__main__", "__builtins__": __builtins__}
    timeout = float(job.get("timeout", 30))
    _append({"ready": True})
    for source in job["program"]:
        try:
            _arm(timeout)
            try:
                exec(compile(_to_python(source), "<cell>", "exec"), namespace)
            finally:
                _disarm()
        except BaseException:  # noqa: BLE001 - a failing cell must not stop the others
            pass
        sys.stdout = io.StringIO()
        sys.stderr = io.StringIO()
    timed_out: set[str] = set()
    for i, call in enumerate(job["calls"]):
        record: dict = {"i": i}
        if call["function"] in timed_out:
            # One timeout per function is enough to fail it; do not wait for every case.
            _append({"i": i, "ok": False, "error": "CellTimeout"})
            continue
        try:
            fn = namespace.get(call["function"])
            if fn is None:
                raise NameError(call["function"])
            _arm(timeout)
            try:
                value = fn(*decode(call["args"]), **decode(call["kwargs"]))
            finally:
                _disarm()
            record.update(ok=True, value=encode(value))
        except BaseException as exc:  # noqa: BLE001 - any failure is a failed case
            if isinstance(exc, CellTimeout):
                timed_out.add(call["function"])
            record.update(ok=False, error=type(exc).__name__[:100])
        sys.stdout = io.StringIO()
        sys.stderr = io.StringIO()
        _append(record)


def main(argv: list[str]) -> int:
    global _RESULT_FD
    mode, job_path = argv[1:3]
    _RESULT_FD = int(os.environ["LUNE_RESULT_FD"])
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    if mode == "notebook":
        run_notebook(job)
    elif mode == "checks":
        run_checks(job)
    else:
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
