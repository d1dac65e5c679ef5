"""Set up the browser test's server database: migrate, then the network (sites, people,
slots) through the services. Run as ``python -m tests.browser.setup_network NOW [--demo]``
with ``CARTFLOW_DATA`` pointing at the server's data folder."""

from __future__ import annotations

import sys
from datetime import datetime


def main(argv: list[str]) -> int:
    import django

    django.setup()
    from django.core.management import call_command

    from tests.browser.network import build_network

    call_command("migrate", verbosity=0)
    build_network(datetime.fromisoformat(argv[0]))
    if "--demo" in argv:
        from cartflow.clinic.demo_seed import seed

        seed()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
