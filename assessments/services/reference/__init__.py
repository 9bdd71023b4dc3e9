"""Reference data: competences with WSOS sections, competence centres, colleges, enterprises.

- ``rules``: the import columns and the field rules that the admin forms and the file
  imports share;
- ``saving``: one record saved from a form (or an import row);
- ``importing``: a CSV/XLSX file of one kind, all or nothing;
- ``listing``: every record of a kind, as shown and as JSON.

Every check reports a ``Problem`` naming the field by its import column (``code``,
``name_kk``, ``weight`` …) and, for files, the spreadsheet row; saving refuses with
``Rejected`` and changes nothing when any check fails. docs/import-formats.md lists the
columns.
"""
