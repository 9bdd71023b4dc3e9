"""Read and write WorldSkills marking-scheme files: the CIS XLSX template and the community JSON.

Pure functions: no database, no Flask. ``parse.parse_scheme_files`` turns uploaded files into
a ``spec.SchemeSpec`` or raises ``spec.SchemeImportError`` listing every problem found, each
naming the file, the place in it (spreadsheet row, header = row 1, or JSON element path) and
the field. ``export.export_scheme_xlsx`` writes a ``SchemeSpec`` back as one CIS-template
workbook.

Modules: ``spec`` (the scheme as read, problems), ``cells`` (reading one value, per-file
results), ``xlsx`` (the CIS template's layout and reader), ``json_format`` (the community
JSON reader), ``parse`` (all files into one scheme, warnings), ``export`` (XLSX writer).

Marks are ``Decimal`` throughout: a spreadsheet float is read through its shortest text form
(at most 15 significant digits, what Excel itself keeps), JSON numbers are parsed as
``Decimal``, so 0.25 stays 0.25 and 1.5 stays 1.5.
"""
