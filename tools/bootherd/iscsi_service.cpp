#include "tools/bootherd/iscsi_service.hpp"

#include "common/log.hpp"
#include "tools/bootherd/endpoint.hpp"

namespace bootherd::cli {
namespace {

iscsi::ServerOptions server_options(const std::vector<std::string>& listen, unsigned threads,
                                    std::function<void(const iscsi::SessionEvent&)> on_session_event) {
    iscsi::ServerOptions options;
    options.on_session_event = std::move(on_session_event);
    for (const auto& text : listen)
        options.listen.push_back(parse_endpoint(text, 3260));
    options.network_threads = threads;
    return options;
}

}  // namespace

IscsiService::IscsiService(const std::vector<std::string>& listen, unsigned threads,
                           std::shared_ptr<iscsi::TargetDirectory> targets, const std::string& what,
                           std::function<void(const iscsi::SessionEvent&)> on_session_event)
    : server_(server_options(listen, threads, std::move(on_session_event)), std::move(targets)) {
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
