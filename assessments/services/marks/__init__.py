"""Mark entry, one module per concern; the rules they share live in ``rules``.

A *cell* is one value of one present candidate (enrolment) for one aspect: seat 0 holds
a measurement mark in hundredths, seats 1 … ``scheme.judges`` hold the judges' 0–3
scores of a judgement aspect.

- ``cells``: what a cell holds and how it is named and shown; the exam's present candidates;
- ``errors``: the refusals (``MarkingError`` and its kinds);
- ``rules``: each marking rule once, called by the single-cell save, the bulk import,
  sign-off and the grid (who may mark, the exam and form open, conflict of interest,
  mark parsing, judge seats, judge spread, deductions without a reason);
- ``entry``: saving one cell safely, and its history;
- ``completeness``: what blocks sign-off (and deductions without a reason), and stamping
  forms locked (finalisation uses it);
- ``signoff``: locking and unlocking forms (deductions without a reason need the chief's note);
- ``progress``: every form of an exam and what needs action (the chief's progress view);
- ``seats``: which expert sits in which judge seat;
- ``bulk_import``: marks recorded elsewhere, from CSV/XLSX or JSON rows;
- ``grid``: everything one marking form shows.

Writers of one exam are serialised by the exam row lock (``exams.lock_exam``), so a
read-compare-write of a cell cannot interleave with another one; on SQLite the write
transaction is opened with ``BEGIN IMMEDIATE`` (``begin_write``), so it waits for the
write lock instead of failing on a stale snapshot.

Error messages are English with ``%(name)s`` placeholders, marked ``N_`` for Babel: the
command line prints ``str(error)``, pages and the API show ``error.translated()``.
"""
