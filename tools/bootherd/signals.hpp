#pragma once
// Graceful shutdown: SIGINT/SIGTERM are blocked in every thread (call before starting any) and collected
// here.

namespace bootherd::cli {

class ShutdownSignals {
  public:
    ShutdownSignals();  // blocks SIGINT and SIGTERM for this thread and the threads it starts
    int wait();         // returns the signal that arrived
};

}  // namespace bootherd::cli
