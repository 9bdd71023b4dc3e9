"""Reports: the dashboard, skills profile, exports and public statistics.

Reports read both domains (``assessments`` results and ``passports``); neither imports
``reports``. ``services`` is the one query layer; ``views`` and ``cli`` format it.
"""
