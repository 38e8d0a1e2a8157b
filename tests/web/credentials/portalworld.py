"""The portal's two-cohort world for tests that build their own app (a node's settings)."""

from __future__ import annotations

from dataclasses import dataclass

PASSWORD = "correct horse battery"


@dataclass
class World:
    learner_a: object
    learner_b: object
    learner_c: object


def make_world() -> World:
    """Cohort 1 (instructor 1; learners A and B) and cohort 2 (instructor 2; learner C)."""
    from web.extensions import db
    from web.services import accounts, cohorts

    def user(email, name, role="learner"):
        return accounts.create_user(email, name, PASSWORD, role=role)

    user("admin@lune.test", "Ada Admin", "admin")
    i1 = user("inst1@lune.test", "Ines Un", "instructor")
    i2 = user("inst2@lune.test", "Igor Deux", "instructor")
    a = user("a@lune.test", "Alice Martin")
    b = user("b@lune.test", "Bruno Petit")
    c = user("c@lune.test", "Chloé Durand")
    c1 = cohorts.create_cohort(i1, "lune-101", "Paris 2027")
    c2 = cohorts.create_cohort(i2, "lune-101", "Lyon 2027")
    cohorts.enroll(a, c1)
    cohorts.enroll(b, c1)
    cohorts.enroll(c, c2)
    db.session.commit()
    return World(a, b, c)
