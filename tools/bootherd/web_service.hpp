#pragma once
// The web service of `bootherd serve`: REST API, dashboard and boot scripts over HTTP(S), on the serve
// context's store and iSCSI server. Creates the admin account at first start (its password goes to
// <data>/initial-admin-password, see initial_password.hpp).
#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "boot/boot_counters.hpp"
#include "db/event_notices.hpp"
#include "tools/bootherd/serve_context.hpp"
#include "web/api/api_context.hpp"
#include "web/auth.hpp"
#include "web/http_server.hpp"
#include "web/job_registry.hpp"

namespace bootherd::cli {

using BootScriptHandler = web::BootScriptHandler;

struct WebServiceOptions {
    std::string listen = "0.0.0.0:8080";
    bool disabled = false;
    std::string tls_cert{};
    std::string tls_key{};
    std::string wake_interface{};
    std::size_t max_connections = 512;
    std::size_t max_connections_per_address = 64;
};

// --listen-http, --no-http, --tls-cert, --tls-key, --wake-interface, --http-max-connections,
// --http-max-connections-per-address
void add_web_service_options(CLI::App& command, WebServiceOptions& options);

class WebService {
  public:
    // Binds and logs "web on ADDR:PORT" (tests read the port from it); does nothing with --no-http.
    // `catalog` is where the catalog is (--catalog; empty: SQLite): on PostgreSQL the event stream listens
    // for new events instead of querying at every poll. `boot_script` may be empty and `boot_counters` and
    // `boot_tracker` null while the boot services are not running. `facts` (start time, DHCP configuration)
    // are what GET /api/v1/server tells, with the address the service listens on.
    WebService(const WebServiceOptions& options, ServeContext& context, const std::string& catalog,
               BootScriptHandler boot_script, const boot::BootCounters* boot_counters,
               boots::BootTracker* boot_tracker, web::ServerFacts facts);
    ~WebService();
    WebService(const WebService&) = delete;
    WebService& operator=(const WebService&) = delete;

    void stop();
    std::uint16_t port() const;  // 0 when disabled

  private:
    mutable std::mutex endpoint_mutex_;
    std::vector<boost::asio::ip::tcp::endpoint> endpoints_;  // where the server listens, once bound
    web::Authenticator auth_;
    web::JobRegistry jobs_;
    std::optional<db::EventNotices> event_notices_;  // outlives the server's event streams
    web::ApiContext api_;
    std::unique_ptr<web::HttpServer> server_;
};

}  // namespace bootherd::cli
