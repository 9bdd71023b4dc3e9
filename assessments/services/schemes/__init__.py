"""Marking schemes, one module per concern.

- ``errors``: ``SchemeError`` and its ``SettingProblem`` (refused settings changes); an
  import that cannot be done raises ``assessments.scheme_files.spec.SchemeImportError``;
- ``storage``: what the scheme tables can hold, and storing a scheme's rows as a version;
- ``importing``: marking-scheme files stored as the next version of a scheme;
- ``reading``: finding schemes, their counts and the marks per WSOS section;
- ``export``: a stored scheme back as a ``SchemeSpec`` and a CIS-template workbook;
- ``settings``: judges, spread, grade bands and pass rule; freezing, and a new version
  when a scheme in use changes.

Services take a session, validate, change the models and raise domain errors; they never
commit. An import stores a whole scheme or nothing; a scheme in use by an exam is frozen,
and changing its settings makes a new version instead.
"""
