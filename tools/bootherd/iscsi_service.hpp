#pragma once
// The iSCSI serving loop shared by `share` and `serve`: listen, log, run until SIGINT/SIGTERM, stop
// gracefully.
#include <memory>
#include <string>
#include <vector>

#include "target/iscsi/target_directory.hpp"
#include "tools/bootherd/signals.hpp"

namespace bootherd::cli {

// Logs "serving <what> on ADDR:PORT" for each bound address (tests read the port from that line), waits for a
// shutdown signal, then lets in-flight commands finish and flushes. Returns the process exit code.
int serve_iscsi_until_signal(ShutdownSignals& signals, const std::vector<std::string>& listen,
                             unsigned threads, std::shared_ptr<iscsi::TargetDirectory> targets,
                             const std::string& what);

}  // namespace bootherd::cli
