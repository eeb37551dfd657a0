#!/bin/bash
# The CloudWatch Logs responder against botocore's client (selftest.py).
# Runs on this machine's python3 (python3-botocore), on a free loopback port.
set -u
here=$(cd "$(dirname "$0")" && pwd)
exec "${PYTHON_BOTO:-/usr/bin/python3}" "$here/selftest.py"
