#!/bin/sh
echo "greeter is listening" >&2
while read -r line; do echo "greeter got a message" >&2; done
