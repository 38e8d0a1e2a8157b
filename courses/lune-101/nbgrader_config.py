"""nbgrader configuration for the Lune 101 course.

`CourseDirectory.root` is set by Lune's code (`lune course build/check`, the grader), never here,
so the course directory can be copied or mounted anywhere. Loaded by nbgrader's Python API.
"""

c = get_config()  # noqa: F821 (provided by traitlets when nbgrader loads this file)

c.CourseDirectory.course_id = "lune-101"
# Only the notebook is an assignment file; nothing else in source/<module>/ is released.
c.CourseDirectory.notebook_id = "*"

# What the learner sees in place of a solution region.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.enforce_metadata = True

# Execution while autograding: each module runs in well under a minute when solved; a learner's
# runaway loop is cut off per cell. nbgrader's `Execute.timeout` wins over command-line flags.
c.Execute.timeout = 60
c.Execute.interrupt_on_timeout = True
# A graceful kernel shutdown can stall for seconds; nothing is left to flush at the end.
c.Execute.shutdown_kernel = "immediate"

# A learner who deletes a graded cell still gets it back (and scored), never "needs manual
# grading" forever.
c.OverwriteCells.add_missing_cells = True
