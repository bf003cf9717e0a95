# Counts iscsi-test-cu results per test: passed (really ran), skipped (passed by skipping), failed.
/^  Test: / { if (name != "") finish(); name = $0; skipped = 0; failed = 0; passed = 0 }
/\[SKIPPED\]/ { skipped = 1 }
/passed$/ { passed = 1 }
/FAILED/ { failed = 1 }
/^Run Summary/ { if (name != "") finish(); name = "" }
function finish() { if (failed) f++; else if (skipped) s++; else if (passed) p++; else o++ }
END { if (name != "") finish(); printf "%d %d %d %d\n", p, s, f, o }
