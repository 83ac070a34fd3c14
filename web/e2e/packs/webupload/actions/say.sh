#!/bin/sh
# Prints the "msg" parameter read as JSON from stdin.
python3 -c 'import json,sys; print(json.load(sys.stdin)["msg"])'
