"""grader — cohort grading on nbgrader: sandboxed, tamper-proof, parallel, with feedback.

May import `sandbox_chain`; never imports `web`.
"""
