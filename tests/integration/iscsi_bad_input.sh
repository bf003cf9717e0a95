#!/usr/bin/env bash
# Malformed and hostile PDUs against bootherd share (see iscsi_bad_input.py).
source "$(dirname "$0")/lib.sh"
python3 "$(dirname "$0")/iscsi_bad_input.py" "$BOOTHERD" "$SCRATCH"
