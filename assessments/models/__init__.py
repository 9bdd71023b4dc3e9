"""Assessment models: reference data, candidates, marking schemes, exams, marks, results."""

from assessments.models.candidates import Candidate, CandidateAccess
from assessments.models.reference import (
    Centre,
    College,
    Competence,
    Enterprise,
    WsosSection,
    centre_competences,
)

__all__ = [
    "Candidate",
    "CandidateAccess",
    "Centre",
    "College",
    "Competence",
    "Enterprise",
    "WsosSection",
    "centre_competences",
]
