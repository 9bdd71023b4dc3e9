"""The grid of one marking form: present candidates × aspect columns, and what it flags."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from assessments import access
from assessments.models import Aspect, Candidate, Enrolment, Exam, Mark, MarkingForm
from assessments.services.marks import rules
from assessments.services.marks.cells import present_enrolments, seat_expert
from assessments.services.marks.errors import (
    ConflictOfInterest,
    MarkingError,
    SeatReasonNeeded,
)


@dataclass(frozen=True)
class GridColumn:
    """One column of the grid: an M aspect (seat 0) or one judge seat of a J aspect."""

    aspect: Aspect
    address: str
    seat: int


@dataclass
class GridRow:
    """One present candidate: their marks by (aspect id, seat), why cells are closed, and
    the aspects (ids) to re-score and whose deduction has no reason yet."""

    enrolment: Enrolment
    candidate: Candidate
    marks: dict[tuple[int, int], Mark]
    # the acting user's own conflict (closes the whole row) and conflicts by judge seat
    user_conflict: ConflictOfInterest | None
    seat_conflicts: dict[int, ConflictOfInterest]
    rescore: set[int]
    deductions: set[int]

    def conflict_for(self, seat: int) -> ConflictOfInterest | None:
        return self.user_conflict or self.seat_conflicts.get(seat)


@dataclass
class Grid:
    """Everything a marking form shows: columns, rows, seats and what blocks sign-off."""

    exam: Exam
    form: MarkingForm
    columns: list[GridColumn]
    aspects: list[Aspect]
    rows: list[GridRow]
    seat_experts: dict[int, User | None]
    can_mark: bool
    is_chief: bool
    # rules.seat_refusal for the user by judge seat: NotYourSeat closes the seat's cells,
    # SeatReasonNeeded (the chief, another's seat) keeps them open and asks for a reason
    seat_refusals: dict[int, MarkingError] = field(default_factory=dict)
    missing: int = 0
    rescore: int = 0
    unexplained_deductions: int = 0

    def seat_closed(self, seat: int) -> MarkingError | None:
        """Why this user may not write the seat's cells at all (another judge's seat)."""
        refusal = self.seat_refusals.get(seat)
        return None if isinstance(refusal, SeatReasonNeeded) else refusal

    def needs_reason(self, seat: int) -> bool:
        """Whether this user (the chief) writes the seat only with a reason."""
        return isinstance(self.seat_refusals.get(seat), SeatReasonNeeded)


def form_grid(session: Session, exam: Exam, form: MarkingForm, user: User | None) -> Grid:
    """Build the grid of one form for ``user``: present candidates × aspect columns.

    Rows are ordered by workstation, then Kazakh name order; a J aspect has one column per
    judge seat 1 … ``scheme.judges``. ``missing`` counts empty cells, ``rescore`` the J
    aspects (per candidate) whose spread exceeds ``scheme.allowed_spread``.
    """
    scheme = exam.scheme
    aspects = list(form.sub_criterion.aspects)
    code = form.sub_criterion.code
    columns: list[GridColumn] = []
    for aspect in aspects:
        address = f"{code}.{aspect.position}"
        seats = range(1, scheme.judges + 1) if aspect.kind == "J" else (0,)
        columns.extend(GridColumn(aspect, address, seat) for seat in seats)
    seat_experts = {seat: seat_expert(session, form, seat) for seat in range(1, scheme.judges + 1)}
    enrolments = present_enrolments(session, exam)
    marks_by_enrolment: dict[int, dict[tuple[int, int], Mark]] = {}
    if enrolments and aspects:
        query = select(Mark).where(
            Mark.exam_id == exam.id, Mark.aspect_id.in_([a.id for a in aspects])
        )
        for mark in session.scalars(query):
            marks_by_enrolment.setdefault(mark.enrolment_id, {})[(mark.aspect_id, mark.seat)] = mark
    grid = Grid(
        exam=exam,
        form=form,
        columns=columns,
        aspects=aspects,
        rows=[],
        seat_experts=seat_experts,
        can_mark=user is not None and access.can_mark(user, exam),
        is_chief=user is not None and access.is_chief(user, exam),
    )
    for seat, judge in seat_experts.items():
        refusal = rules.seat_refusal(user, exam, seat, judge, "")
        if refusal is not None:
            grid.seat_refusals[seat] = refusal
    for enrolment in enrolments:
        candidate = enrolment.candidate
        marks = marks_by_enrolment.get(enrolment.id, {})
        user_conflict = rules.user_exclusion(user, candidate)
        seat_conflicts = {}
        for seat, judge in seat_experts.items():
            found = rules.seat_exclusion(judge, seat, candidate)
            if found is not None:
                seat_conflicts[seat] = found
        row = GridRow(enrolment, candidate, marks, user_conflict, seat_conflicts, set(), set())
        for aspect in aspects:
            if aspect.kind == "M":
                mark = marks.get((aspect.id, 0))
                if mark is None:
                    grid.missing += 1
                elif rules.unexplained_deduction(
                    aspect.kind, aspect.max_hundredths, mark.value, mark.reason
                ):
                    row.deductions.add(aspect.id)
                    grid.unexplained_deductions += 1
                continue
            scores = {
                seat: mark.value
                for seat in range(1, scheme.judges + 1)
                if (mark := marks.get((aspect.id, seat))) is not None
            }
            empty, rescore = rules.judge_seats_state(scores, scheme.judges, scheme.allowed_spread)
            grid.missing += len(empty)
            if rescore:
                row.rescore.add(aspect.id)
                grid.rescore += 1
        grid.rows.append(row)
    return grid
