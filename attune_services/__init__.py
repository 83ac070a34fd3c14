"""Network services around attune_core: API, notifier, RabbitMQ bus, service runners."""
