"""``python -m local`` (``make local``): run the whole system on this machine. See local/runtime.py."""

from __future__ import annotations

import sys

from local.runtime import run


def main() -> int:
    try:
        return run()
    except KeyboardInterrupt:
        return 130
    except (OSError, ValueError, RuntimeError) as exc:
        print(f"local runtime: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
