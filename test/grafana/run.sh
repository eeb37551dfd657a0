#!/usr/bin/env bash
# run.sh: the Grafana dashboard's queries against the S3 rig (see run.py).
# Needs the rig and PostgreSQL of scripts/test.sh; prints
# `grafana: N passed, N failed`.
exec python3 "$(dirname "${BASH_SOURCE[0]}")/run.py" "$@"
