#include "tools/bootherd/iscsi_service.hpp"

#include "common/log.hpp"
#include "tools/bootherd/endpoint.hpp"

namespace bootherd::cli {
namespace {

iscsi::ServerOptions server_options(const std::vector<std::string>& listen, unsigned threads,
                                    const IscsiLimits& limits,
                                    std::function<void(const iscsi::SessionEvent&)> on_session_event,
                                    iscsi::LoginRouter login_router) {
    iscsi::ServerOptions options;
    options.max_connections = limits.max_connections;
    options.max_connections_per_address = limits.max_connections_per_address;
    options.max_sessions_per_target = limits.max_sessions_per_target;
    options.max_session_buffer_bytes = limits.max_session_buffer_mib << 20;
    options.on_session_event = std::move(on_session_event);
    options.login_router = std::move(login_router);
    for (const auto& text : listen)
        options.listen.push_back(parse_endpoint(text, 3260));
    options.network_threads = threads;
    return options;
}

}  // namespace

void add_iscsi_limit_options(CLI::App& command, IscsiLimits& limits) {
    command.add_option("--max-connections", limits.max_connections, "iSCSI connections in all")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    command
        .add_option("--max-connections-per-address", limits.max_connections_per_address,
                    "iSCSI connections from one initiator address; at the cap a new one replaces the oldest "
                    "still logging in")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
    command
        .add_option("--max-sessions-per-target", limits.max_sessions_per_target,
                    "Sessions on one target (0: no cap); at the cap a login from an address that has "
                    "sessions there replaces its oldest (a rebooted machine), others are refused")
        ->capture_default_str();
    command
        .add_option("--max-session-buffer-mib", limits.max_session_buffer_mib,
                    "MiB of task buffers and unsent Data-In one session may hold before its commands wait")
        ->capture_default_str()
        ->check(CLI::PositiveNumber);
}

IscsiService::IscsiService(const std::vector<std::string>& listen, unsigned threads,
                           const IscsiLimits& limits, std::shared_ptr<iscsi::TargetDirectory> targets,
                           const std::string& what,
                           std::function<void(const iscsi::SessionEvent&)> on_session_event,
                           iscsi::LoginRouter login_router)
    : server_(server_options(listen, threads, limits, std::move(on_session_event), std::move(login_router)),
              std::move(targets)) {
    server_.start();
    endpoints_ = server_.local_endpoints();
    for (const auto& ep : endpoints_)
        log::info("serving ", what, " on ", ep.address().to_string(), ":", ep.port());
}

IscsiService::~IscsiService() {
    stop();
}

bool IscsiService::stop() {
    if (stopped_) return flushed_;
    stopped_ = true;
    log::info("iSCSI: finishing in-flight commands and flushing");
    flushed_ = server_.stop();
    server_.wait();
    return flushed_;
}

}  // namespace bootherd::cli
