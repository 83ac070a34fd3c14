#!/usr/bin/env bash
echo "something went wrong" >&2
exit 3
