#include "tools/bootherd/iscsi_service.hpp"

#include "common/log.hpp"
#include "target/iscsi/server.hpp"
#include "tools/bootherd/endpoint.hpp"

namespace bootherd::cli {

int serve_iscsi_until_signal(ShutdownSignals& signals, const std::vector<std::string>& listen,
                             unsigned threads, std::shared_ptr<iscsi::TargetDirectory> targets,
                             const std::string& what) {
    iscsi::ServerOptions options;
    for (const auto& text : listen)
        options.listen.push_back(parse_endpoint(text, 3260));
    options.network_threads = threads;
    iscsi::Server server(std::move(options), std::move(targets));
    server.start();
    for (const auto& ep : server.local_endpoints())
        log::info("serving ", what, " on ", ep.address().to_string(), ":", ep.port());

    const int sig = signals.wait();
    log::info("signal ", sig, ": finishing in-flight commands and flushing");
    server.stop();
    server.wait();
    log::info("stopped");
    return 0;
}

}  // namespace bootherd::cli
