"""The notifier: fans ``notification.created`` messages out to WebSocket and SSE clients.

Rules of this package:

1. The source is the bus (``notification.created``, payload = the contract's notification
   frame), so the notifier works in the all-in-one server (in-memory bus) and as its own
   service on port 8081 (RabbitMQ) alike.
2. A slow client never slows anyone else: each subscription has a bounded buffer and drops its
   oldest frames when full.
"""

from attune_services.notifier._hub import HubSubscription, NotificationHub, matches_filter
from attune_services.notifier._ws import install_websocket

__all__ = ["HubSubscription", "NotificationHub", "install_websocket", "matches_filter"]
