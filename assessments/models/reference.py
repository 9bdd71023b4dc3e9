"""Reference data kept by the administrators: competences, centres, colleges, enterprises."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import CheckConstraint, Column, ForeignKey, Numeric, String, Table, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import db


class TrilingualName:
    """Name in Kazakh (required), Russian and English (optional, fall back to Kazakh)."""

    name_kk: Mapped[str] = mapped_column(String(300))
    name_ru: Mapped[str] = mapped_column(String(300), default="")
    name_en: Mapped[str] = mapped_column(String(300), default="")


centre_competences = Table(
    "centre_competences",
    db.metadata,
    Column("centre_id", ForeignKey("centres.id", ondelete="CASCADE"), primary_key=True),
    Column("competence_id", ForeignKey("competences.id", ondelete="CASCADE"), primary_key=True),
)


class Competence(TrilingualName, db.Model):
    __tablename__ = "competences"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)

    sections: Mapped[list[WsosSection]] = relationship(
        back_populates="competence",
        order_by="WsosSection.number",
        cascade="all, delete-orphan",
        lazy="selectin",
    )

    def __repr__(self) -> str:
        return f"<Competence {self.code}>"


class WsosSection(TrilingualName, db.Model):
    """A numbered section of the occupational standard with its weight in percent."""

    __tablename__ = "wsos_sections"
    __table_args__ = (
        UniqueConstraint("competence_id", "number"),
        CheckConstraint("weight > 0 AND weight <= 100", "weight_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    competence_id: Mapped[int] = mapped_column(ForeignKey("competences.id", ondelete="CASCADE"))
    number: Mapped[int]
    weight: Mapped[Decimal] = mapped_column(Numeric(5, 2))

    competence: Mapped[Competence] = relationship(back_populates="sections")


class Centre(TrilingualName, db.Model):
    """A competence centre: a workshop accredited for some competences."""

    __tablename__ = "centres"
    __table_args__ = (CheckConstraint("workstations > 0", "workstations_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    city: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300), default="")
    workstations: Mapped[int]

    competences: Mapped[list[Competence]] = relationship(
        secondary=centre_competences, order_by="Competence.code", lazy="selectin"
    )


class College(TrilingualName, db.Model):
    __tablename__ = "colleges"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    city: Mapped[str] = mapped_column(String(100))


class Enterprise(TrilingualName, db.Model):
    """A dual-training partner; its BIN is its code."""

    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(primary_key=True)
    bin: Mapped[str] = mapped_column(String(12), unique=True)

    @property
    def code(self) -> str:
        return self.bin
