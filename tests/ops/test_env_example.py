"""``.env.example`` names every variable the settings read, so deployments see them all."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
READ = re.compile(r"""\benv_\w+\(\s*["']([A-Z][A-Z0-9_]*)["']""")
LISTED = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def test_every_setting_variable_is_listed():
    read = set(READ.findall((ROOT / "dashboard" / "settings.py").read_text()))
    listed = set(LISTED.findall((ROOT / ".env.example").read_text()))
    assert read, "no env_*() calls found: has settings.py changed shape?"
    assert sorted(read - listed) == []
