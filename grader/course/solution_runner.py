"""Run a source notebook's code outside Jupyter and call its exercise functions on check cases.

Usage: python -m grader.course.solution_runner NOTEBOOK CHECKS_JSON
Prints one JSON line: {function: [encoded result | {"$error": "Type: message"}, ...]}.

Only trusted (instructor-authored) notebooks go through here: `lune course check` uses it to
prove the SOURCE solutions produce the checks file's expected values. Test cells are skipped;
everything else runs top to bottom in one namespace, as a kernel would run it.
"""

from __future__ import annotations

import contextlib
import io
import json
import sys

from grader.course.checkfile import decode_value, encode_value


def main(notebook: str, checks: str) -> int:
    with open(notebook, encoding="utf-8") as f:
        nb = json.load(f)
    with open(checks, encoding="utf-8") as f:
        spec = json.load(f)
    namespace: dict = {"__name__": "__main__"}
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink):
        for cell in nb.get("cells", []):
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") != "code" or meta.get("grade"):
                continue
            source = cell["source"]
            source = "".join(source) if isinstance(source, list) else source
            exec(compile(source, f"<cell {meta.get('grade_id', '')}>", "exec"), namespace)
        results: dict[str, list] = {}
        for exercise in spec.get("exercises", []):
            fn = namespace.get(exercise["function"])
            out = []
            for case in exercise["cases"]:
                if not callable(fn):
                    out.append({"$error": "NameError: function not defined by the notebook"})
                    continue
                try:
                    value = fn(*decode_value(case["args"]), **decode_value(case["kwargs"]))
                    out.append(encode_value(value))
                except Exception as exc:  # reported per case, never fatal
                    out.append({"$error": f"{type(exc).__name__}: {exc}"})
            results[exercise["function"]] = out
    print(json.dumps(results))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
