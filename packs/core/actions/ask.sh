#!/usr/bin/env bash
# core.ask is carried out by the executor (an inquiry, no process); this script only runs if
# a worker is handed the action by mistake, and says so.
echo "core.ask is handled by the Attune executor and cannot run as a process" >&2
exit 1
