"""Why a marking operation is refused: one exception class per rule, with a ``code``."""

from __future__ import annotations

from collections.abc import Sequence

from app.messages import N_, DomainError
from assessments.services.marks.cells import CellState, Incomplete


class MarkingError(DomainError):
    """A marking operation refused; ``code`` names the rule, ``field`` the input at fault."""

    code = "refused"


class ExamClosed(MarkingError):
    code = "exam_finalised"


class FormLocked(MarkingError):
    code = "form_locked"


class NotAllowed(MarkingError):
    code = "not_allowed"


class ConflictOfInterest(NotAllowed):
    code = "conflict_of_interest"


class NotStarted(MarkingError):
    code = "not_started"


class NotYourSeat(NotAllowed):
    """A judge seat written by someone other than the expert seated there (or the chief)."""

    code = "not_your_seat"


class SeatReasonNeeded(MarkingError):
    """The chief expert writing another judge's seat (or an empty one) without a reason."""

    code = "reason_required"


class NotPresent(MarkingError):
    code = "not_present"


class MarkInvalid(MarkingError):
    code = "invalid"


class MarkConflict(MarkingError):
    """The cell changed since the writer read it; ``current`` is what it holds now."""

    code = "conflict"

    def __init__(self, current: CellState) -> None:
        self.current = current
        if current.value is None:
            super().__init__(N_("Someone cleared this cell in the meantime."), "expected_version")
        else:
            super().__init__(
                N_("%(who)s changed this to %(value)s in the meantime."),
                "expected_version",
                who=current.updated_by or "?",
                value=current.value,
            )


class FormIncomplete(MarkingError):
    """Locking refused: ``items`` lists the cells missing or needing re-scoring."""

    code = "incomplete"

    def __init__(self, items: Sequence[Incomplete]) -> None:
        self.items = list(items)
        super().__init__(
            N_("%(count)s marks are missing or need re-scoring."), "form", count=len(self.items)
        )

    def lines(self) -> list[str]:
        return [str(item) for item in self.items]


class DeductionsUnexplained(MarkingError):
    """Locking refused: deductions without a reason, and no acknowledgement from the chief."""

    code = "deductions_unexplained"

    def __init__(self, items: Sequence[Incomplete]) -> None:
        self.items = list(items)
        super().__init__(
            N_(
                "Deductions without a reason: %(count)s. Have the experts write the"
                " reasons, or acknowledge them with a note."
            ),
            "acknowledgement",
            count=len(self.items),
        )
