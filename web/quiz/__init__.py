"""web.quiz — certification quizzes without Flask.

GIFT question banks (Moodle's format: `gift` reads them, `gift_writer` writes them back),
quiz definitions from `course.toml` (`definition`), a pure attempt engine (`engine`, `scoring`)
and Moodle's item statistics (`stats`). Nothing here imports Flask: the `lune quiz` CLI, the
portal and a notebook share it (tests/web/quiz/test_no_flask.py proves it).
"""
