"""The one route registry of the API."""

from attune_services.api._routing import Api

api = Api()
