"""The `OpenBadgeCredential` a learner receives (Open Badges 3.0 on W3C VC Data Model 2.0).

Follows the Open Badges 3.0 specification (1EdTech, §8 data model): `@context` is the VC 2.0 context
then the OB 3.0.3 context; `issuer` is a `Profile`; `credentialSubject` is an `AchievementSubject`
with the `Achievement` (criteria naming the course's modules and its exam, the pass mark as the
`requiredValue` of a `ResultDescription`), the learner's `result`s, and the learner identified only
by an `IdentityObject` holding a salted SHA-256 of their email (`hashed: true`, OB 3.0 §B.1.9:
`sha256$` + hex of SHA-256(identity ‖ salt)). `credentialStatus` points into the issuer's Bitstring
Status Lists (revocation and suspension).
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from .errors import CredentialError
from .jsonld import CREDENTIAL_CONTEXT
from .timefmt import format_time


@dataclass(frozen=True)
class CourseAchievement:
    """What a certificate attests: a course, its modules, its exam and its pass mark."""

    id: str  # a URL naming the achievement, stable across issuances
    course_id: str
    name: str
    description: str
    modules: list[tuple[str, str]]  # (module id, title), in course order
    exam: str  # the certification exam's name
    pass_mark: int  # percent
    valid_for_days: int | None = None  # None: the certificate does not expire
    language: str = "en"


@dataclass(frozen=True)
class LearnerResult:
    """What a learner achieved: their email (hashed in the credential) and scores (percent)."""

    email: str
    exam_score: float
    course_score: float | None = None
    salt: str = field(default_factory=lambda: secrets.token_hex(16))


def normalize_email(email: str) -> str:
    """The form of an email that is hashed: surrounding spaces removed, lower case."""
    text = email.strip().lower()
    if "@" not in text or text.startswith("@") or text.endswith("@") or " " in text:
        raise CredentialError(f"not an email address: {email!r}")
    return text


def identity_hash(email: str, salt: str) -> str:
    """OB 3.0 IdentityHash of an email: `sha256$` + hex SHA-256(email ‖ salt)."""
    digest = hashlib.sha256((normalize_email(email) + salt).encode("utf-8")).hexdigest()
    return f"sha256${digest}"


def _number(value: float) -> str:
    return f"{value:g}"


def criteria_narrative(achievement: CourseAchievement) -> str:
    """The criteria in words: every module, then the exam and its pass mark."""
    modules = "; ".join(f"{mid} ({title})" for mid, title in achievement.modules)
    return (
        f"Complete the modules of {achievement.course_id}: {modules}. "
        f"Pass the certification exam \u201c{achievement.exam}\u201d with at least "
        f"{achievement.pass_mark}%."
    )


def achievement_json(achievement: CourseAchievement) -> dict[str, Any]:
    """The `Achievement` object."""
    return {
        "id": achievement.id,
        "type": ["Achievement"],
        "achievementType": "Certificate",
        "name": achievement.name,
        "description": achievement.description,
        "criteria": {"narrative": criteria_narrative(achievement)},
        "inLanguage": achievement.language,
        "resultDescription": [
            {
                "id": f"{achievement.id}#exam",
                "type": ["ResultDescription"],
                "name": achievement.exam,
                "resultType": "Percent",
                "requiredValue": str(achievement.pass_mark),
                "valueMin": "0",
                "valueMax": "100",
            },
            {
                "id": f"{achievement.id}#course",
                "type": ["ResultDescription"],
                "name": f"{achievement.course_id} course score",
                "resultType": "Percent",
                "valueMin": "0",
                "valueMax": "100",
            },
        ],
    }


def build_credential(
    *,
    issuer: dict[str, Any],
    achievement: CourseAchievement,
    learner: LearnerResult,
    valid_from: datetime,
    status: list[dict[str, Any]],
    credential_id: str | None = None,
) -> dict[str, Any]:
    """An unsigned OpenBadgeCredential for one learner who passed.

    `status` is the list of `BitstringStatusListEntry` objects (see `statuslist`). Raises
    `CredentialError` if the learner did not reach the pass mark.
    """
    if learner.exam_score < achievement.pass_mark:
        raise CredentialError(
            f"exam score {_number(learner.exam_score)}% is below the pass mark "
            f"{achievement.pass_mark}%: no certificate"
        )
    results = [
        {
            "type": ["Result"],
            "resultDescription": f"{achievement.id}#exam",
            "value": _number(learner.exam_score),
            "status": "Completed",
        }
    ]
    if learner.course_score is not None:
        results.append(
            {
                "type": ["Result"],
                "resultDescription": f"{achievement.id}#course",
                "value": _number(learner.course_score),
            }
        )
    credential: dict[str, Any] = {
        "@context": list(CREDENTIAL_CONTEXT),
        "id": credential_id or f"urn:uuid:{uuid.uuid4()}",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": issuer,
        "validFrom": format_time(valid_from),
    }
    if achievement.valid_for_days is not None:
        credential["validUntil"] = format_time(
            valid_from + timedelta(days=achievement.valid_for_days)
        )
    credential |= {
        "name": achievement.name,
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": identity_hash(learner.email, learner.salt),
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": learner.salt,
                }
            ],
            "achievement": achievement_json(achievement),
            "result": results,
        },
        "credentialStatus": status,
    }
    return credential


def subject_matches_email(credential: dict[str, Any], email: str) -> bool:
    """True if one of the subject's hashed identifiers is this email."""
    try:
        identifiers = credential["credentialSubject"]["identifier"]
    except (KeyError, TypeError):
        return False
    for ident in identifiers if isinstance(identifiers, list) else [identifiers]:
        if not isinstance(ident, dict) or ident.get("identityType") != "emailAddress":
            continue
        salt = ident.get("salt", "")
        try:
            if ident.get("identityHash") == identity_hash(email, str(salt)):
                return True
        except CredentialError:
            return False
    return False
