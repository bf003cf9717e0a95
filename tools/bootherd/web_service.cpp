#include "tools/bootherd/web_service.hpp"

#include <boost/asio/ssl/context.hpp>
#include <filesystem>

#include "common/log.hpp"
#include "tools/bootherd/endpoint.hpp"
#include "tools/bootherd/initial_password.hpp"
#include "web/web_app.hpp"

namespace bootherd::cli {
namespace {

std::shared_ptr<boost::asio::ssl::context> tls_context(const WebServiceOptions& options) {
    if (options.tls_cert.empty() && options.tls_key.empty()) return nullptr;
    if (options.tls_cert.empty() || options.tls_key.empty())
        throw std::invalid_argument("--tls-cert and --tls-key go together");
    namespace ssl = boost::asio::ssl;
    auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
    context->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 | ssl::context::no_sslv3 |
                         ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 | ssl::context::single_dh_use);
    context->use_certificate_chain_file(options.tls_cert);
    context->use_private_key_file(options.tls_key, ssl::context::pem);
    return context;
}

}  // namespace

void add_web_service_options(CLI::App& command, WebServiceOptions& options) {
    command.add_option("--listen-http", options.listen, "ADDR:PORT of the web dashboard and REST API")
        ->capture_default_str();
    command.add_flag("--no-http", options.disabled, "Do not serve the dashboard and REST API");
    command.add_option("--tls-cert", options.tls_cert, "PEM certificate chain: serve HTTPS instead of HTTP");
    command.add_option("--tls-key", options.tls_key, "PEM private key for --tls-cert");
    command.add_option(
        "--wake-interface", options.wake_interface,
        "Interface Wake-on-LAN packets leave through (default: broadcast on the default route)");
    command
        .add_option("--http-max-connections", options.max_connections,
                    "Open HTTP connections at most; idle ones are closed first to make room")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
    command
        .add_option("--http-max-connections-per-address", options.max_connections_per_address,
                    "Open HTTP connections at most from one client address")
        ->check(CLI::PositiveNumber)
        ->capture_default_str();
}

WebService::WebService(const WebServiceOptions& options, ServeContext& context, const std::string& catalog,
                       BootScriptHandler boot_script, const boot::BootCounters* boot_counters,
                       boots::BootTracker* boot_tracker, web::ServerFacts facts)
    : auth_(context.store.catalog()),
      api_{.store = context.store,
           .auth = auth_,
           .jobs = jobs_,
           .live = {.sessions = [&server = context.iscsi] { return server.sessions(); },
                    .stats = [&server = context.iscsi] { return std::optional(server.stats()); }},
           .boot_script = std::move(boot_script),
           .boot_counters = boot_counters,
           .boot_tracker = boot_tracker,
           .iscsi_portals = context.iscsi_portals,
           .wake_interface = options.wake_interface,
           .server = std::move(facts)} {
    api_.server.http_listeners = [this] {
        const std::lock_guard lock(endpoint_mutex_);
        return endpoints_;
    };
    if (options.disabled) return;
    api_.event_notices = &event_notices_.emplace(catalog);
    if (auto password = auth_.ensure_admin()) {
        write_initial_password(context.store.data_dir(), *password);
        log::warn("web: created user '", web::kAdminUser, "'; its password is in ",
                  initial_password_file(context.store.data_dir()).string(),
                  " (readable by this account only; `bootherd admin set-password` replaces it and deletes "
                  "the file)");
    }
    web::HttpServerOptions server_options;
    server_options.endpoint = parse_endpoint(options.listen, 8080);
    server_options.tls = tls_context(options);
    server_options.upload_dir = context.store.data_dir() / "tmp";
    server_options.max_connections = options.max_connections;
    server_options.max_connections_per_address = options.max_connections_per_address;
    std::filesystem::create_directories(server_options.upload_dir);
    const bool secure = server_options.tls != nullptr;
    server_ =
        std::make_unique<web::HttpServer>(std::move(server_options), web::make_router(api_),
                                          [this](web::Request& request) { auth_.authenticate(request); });
    const auto endpoint = server_->local_endpoint();
    {
        const std::lock_guard lock(endpoint_mutex_);
        endpoints_ = {endpoint};
    }
    log::info("web on ", endpoint.address().to_string(), ":", endpoint.port(),
              secure ? " (https)" : " (http)");
}

WebService::~WebService() {
    stop();
}

void WebService::stop() {
    if (server_) server_->stop();
}

std::uint16_t WebService::port() const {
    return server_ ? server_->local_endpoint().port() : 0;
}

}  // namespace bootherd::cli
