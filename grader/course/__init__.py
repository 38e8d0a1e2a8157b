"""Course content tooling: `course.toml`, building learner versions, checking modules, the lab.

`lune course build` and `lune course check` (grader.course.cli) drive nbgrader's Python API;
`lune lab` opens a learner workspace in JupyterLab. Authoring conventions:
docs/instructor-guide.md.
"""
