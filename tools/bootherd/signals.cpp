#include "tools/bootherd/signals.hpp"

#include <pthread.h>
#include <signal.h>

namespace bootherd::cli {
namespace {
sigset_t shutdown_set() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    return set;
}
}  // namespace

ShutdownSignals::ShutdownSignals() {
    auto set = shutdown_set();
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    signal(SIGPIPE, SIG_IGN);  // a peer that vanishes must surface as EPIPE, not kill the server
}

int ShutdownSignals::wait() {
    auto set = shutdown_set();
    int sig = 0;
    sigwait(&set, &sig);
    return sig;
}

}  // namespace bootherd::cli
