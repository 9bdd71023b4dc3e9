"""Assessment models: reference data, candidates, marking schemes, exams, marks, results."""

from assessments.models.candidates import Candidate, CandidateAccess, CandidateCentre
from assessments.models.exams import (
    ATTENDANCE,
    EXAM_STATUSES,
    AuditEntry,
    Enrolment,
    Exam,
    ExamExpert,
    ExamStatus,
    Mark,
    MarkingForm,
    Result,
)
from assessments.models.reference import (
    Centre,
    College,
    Competence,
    Enterprise,
    WsosSection,
    centre_competences,
)
from assessments.models.schemes import Aspect, Criterion, MarkingScheme, SubCriterion

__all__ = [
    "ATTENDANCE",
    "EXAM_STATUSES",
    "Aspect",
    "AuditEntry",
    "Candidate",
    "CandidateAccess",
    "CandidateCentre",
    "Centre",
    "College",
    "Competence",
    "Criterion",
    "Enrolment",
    "Enterprise",
    "Exam",
    "ExamExpert",
    "ExamStatus",
    "Mark",
    "MarkingForm",
    "MarkingScheme",
    "Result",
    "SubCriterion",
    "WsosSection",
    "centre_competences",
]
