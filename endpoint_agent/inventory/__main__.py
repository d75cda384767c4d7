"""Print this machine's inventory as JSON: ``python -m endpoint_agent.inventory``."""

from __future__ import annotations

import json
import sys

from endpoint_agent.inventory import collect


def main() -> int:
    """Collect the inventory and write it to stdout as indented JSON."""
    json.dump(collect(), sys.stdout, indent=2, sort_keys=True, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
