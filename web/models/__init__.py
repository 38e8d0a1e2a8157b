"""The portal's tables, one module per area; importing this package registers them all."""

from web.models.certificates import Certificate, CertificateStatusChange
from web.models.certify import EssayGrade, QuizAttempt, QuizSlot
from web.models.courses import Cohort, CohortInstructor, Course, DueDate, Enrollment, Module
from web.models.ops import WorkerHeartbeat
from web.models.submissions import GradingResult, ScoreOverride, Submission
from web.models.users import ApiToken, LoginSession, OneTimeToken, User

__all__ = [
    "ApiToken",
    "Certificate",
    "CertificateStatusChange",
    "Cohort",
    "CohortInstructor",
    "Course",
    "DueDate",
    "EssayGrade",
    "Enrollment",
    "GradingResult",
    "LoginSession",
    "Module",
    "OneTimeToken",
    "QuizAttempt",
    "QuizSlot",
    "ScoreOverride",
    "Submission",
    "User",
    "WorkerHeartbeat",
]
