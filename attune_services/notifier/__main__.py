"""``python -m attune_services.notifier``: the stand-alone notifier service (port 8081)."""

from attune_services.notifier.service import main

main()
