"""Write the API's OpenAPI document to web/openapi.json (the typed client is generated from it:
`npm run gen:api`). tests/unit/test_web_openapi.py fails when the committed copy drifts."""

import json
import sys
from pathlib import Path

from attune_services.api._openapi import build_spec
from attune_services.api.routes import api


def render() -> str:
    return json.dumps(build_spec(api), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    target = Path(__file__).resolve().parent.parent / "openapi.json"
    target.write_text(render())
    sys.stdout.write(f"wrote {target}\n")
