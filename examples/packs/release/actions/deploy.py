"""Deploy through the deployment service's API (a real call; tests mock this action)."""

import json
import sys
import urllib.request

params = json.loads(sys.stdin.readline())
request = urllib.request.Request(
    f"{params['api_url']}/deployments",
    data=json.dumps({"artifact": params["artifact"], "env": params["environment"]}).encode(),
    headers={"Content-Type": "application/json"},
    method="POST",
)
with urllib.request.urlopen(request, timeout=30) as response:
    print(json.dumps(json.load(response)))
