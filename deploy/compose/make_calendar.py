"""Write the compose stack's calendar: a wedding in every phase, relative to now (run by the `init` service).

Not named calendar.py: the script's directory comes first on sys.path and would shadow the
standard library's `calendar` module.
"""

from __future__ import annotations

import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import yaml

from wedwatch.calendar.demo import demo_weddings


def main(argv: list[str]) -> int:
    """Write the calendar to argv[1] atomically; 0 on success."""
    if len(argv) != 2:
        print(f"usage: {argv[0]} PATH", file=sys.stderr)
        return 2
    target = Path(argv[1])
    weddings = [w.to_dict() for w in demo_weddings(datetime.now(UTC))]
    text = "# Generated at stack start by deploy/compose/make_calendar.py.\n" + yaml.safe_dump(
        {"weddings": weddings}, sort_keys=False
    )
    # Write then rename: an exporter re-reading the calendar never sees half a file.
    partial = target.with_name(target.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    os.replace(partial, target)
    print(f"make_calendar: {len(weddings)} weddings written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
