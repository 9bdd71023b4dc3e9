"""Candidates, one module per concern.

- ``scope``: who may see which candidates; finding one by IIN, the IIN masked or plain;
- ``records``: the field rules (``clean_candidate``) that the web form and every import
  row share, and saving one candidate;
- ``importing``: candidates from CSV/XLSX, all or nothing;
- ``personal_data``: the access log, the personal-data export and erasure (with the hooks
  the passports package registers).

The IIN is kept as a keyed hash (look-ups, uniqueness) and AES-GCM ciphertext
(assessments.personal_data); nothing here logs it or puts it in a message. Problems name
the field by its import column (``iin``, ``college_code`` …).
"""
