#pragma once
// The process's descriptor limit: every iSCSI connection, HTTP client and open image holds one.

namespace bootherd::cli {

// Raises the soft RLIMIT_NOFILE to the hard limit (a distribution's soft 1024 would cap the connections a
// boot storm needs long before the server's own caps) and logs what it got.
void raise_descriptor_limit();

}  // namespace bootherd::cli
