# Counts iscsi-test-cu results per test: passed (really ran), skipped (passed by skipping), failed, other.
/^Suite: / { suite = $2 }
/^  Test: / { if (name != "") finish(); name = suite "." $2; skipped = 0; failed = 0; passed = 0 }
/\[SKIPPED\]/ { skipped = 1 }
/\.\.\.passed$|^passed/ { passed = 1 }
# CUnit's verdict: "...FAILED" after the test name or alone on a line, then the failed assertions. A "[FAILED]"
# inside a passing test is only a helper's log line (e.g. clearing a unit attention) and is not a failure.
/\.\.\.FAILED$|^FAILED$|^ +[0-9]+\. [^ ]+\.c:[0-9]+ +- / { failed = 1 }
/^Run Summary/ { if (name != "") finish(); name = "" }
function finish() {
  if (failed) f++
  else if (skipped) s++
  else if (passed) p++
  else o++
}
END { if (name != "") finish(); printf "%d %d %d %d\n", p, s, f, o }
