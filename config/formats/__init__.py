"""Our overrides of Django's date and number formats, per language (FORMAT_MODULE_PATH).

Each language's `formats.py` names only what differs from Django's own module for it; Django
falls back to its own for the rest. Tables show dates as SHORT_DATE_FORMAT (2026-12-05 in both
languages: narrow, and sorted as they read); sentences use DATE_FORMAT."""
