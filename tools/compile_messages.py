"""Compile every catalogue, the project's locale/<language>/LC_MESSAGES/django.po and any
app's <app>/locale/..., into its django.mo, with Babel.

Django's `compilemessages` needs GNU gettext's msgfmt, which a fresh machine may not have; this
needs only the pinned Babel from the venv. The .mo files are build output (.gitignore): `make
venv`, `make run` and `make test` run this, and it rewrites a .mo only when its .po is newer.
Exits non-zero, naming the file, when a catalogue cannot be read."""

import sys
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent


def compile_catalogue(po_path: Path) -> Path:
    mo_path = po_path.with_suffix(".mo")
    if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
        return mo_path
    language = po_path.parent.parent.name
    with po_path.open("rb") as po_file:
        # abort_invalid: a malformed entry stops the build instead of vanishing from the .mo.
        catalogue = read_po(po_file, locale=language, abort_invalid=True)
    with mo_path.open("wb") as mo_file:
        # Fuzzy entries are not translations yet: left out, as msgfmt leaves them out.
        write_mo(mo_file, catalogue, use_fuzzy=False)
    return mo_path


def main() -> int:
    catalogues = [
        *ROOT.glob("locale/*/LC_MESSAGES/*.po"),
        *ROOT.glob("*/locale/*/LC_MESSAGES/*.po"),
    ]
    for po_path in sorted(catalogues):
        try:
            print(f"compiled {compile_catalogue(po_path).relative_to(ROOT)}")
        except Exception as error:  # noqa: BLE001 (any reason, said with the file's name)
            print(f"{po_path}: {error}", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
