// `bootherd serve`: every node's disk and every image draft as iSCSI targets, from the catalog.
#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/log.hpp"
#include "db/credentials.hpp"
#include "imagestore/store/catalog_targets.hpp"
#include "imagestore/store/image_store.hpp"
#include "tools/bootherd/boot_service.hpp"
#include "tools/bootherd/boot_session_events.hpp"
#include "tools/bootherd/commands.hpp"
#include "tools/bootherd/iscsi_service.hpp"
#include "tools/bootherd/serve_context.hpp"
#include "tools/bootherd/signals.hpp"
#include "tools/bootherd/store_options.hpp"
#include "tools/bootherd/web_service.hpp"

namespace bootherd::cli {
namespace {

struct ServeOptions {
    std::string data = kDefaultDataDir;
    std::vector<std::string> listen{"0.0.0.0:3260"};
    std::string maintenance_chap;
    unsigned threads = 0;
    WebServiceOptions web{};
    BootServiceOptions boot{};
};

iscsi::Credentials maintenance_credentials(const std::string& text) {
    if (text.empty()) {
        iscsi::Credentials generated{"maintenance", db::random_credential(db::chap_secret_length)};
        log::info("draft targets: CHAP user ", generated.user, ", secret ", generated.secret,
                  " (fix them with --maintenance-chap USER:SECRET)");
        return generated;
    }
    const auto colon = text.find(':');
    if (colon == std::string::npos || colon == 0 || colon + 1 == text.size())
        throw std::invalid_argument("--maintenance-chap wants USER:SECRET");
    return {text.substr(0, colon), text.substr(colon + 1)};
}

int run_serve(const ServeOptions& o) {
    ShutdownSignals signals;  // before any thread starts, so all of them inherit the blocked mask

    imagestore::store::ImageStore store(o.data);
    auto targets = std::make_shared<imagestore::store::CatalogTargets>(
        store, maintenance_credentials(o.maintenance_chap));

    const std::string what =
        std::to_string(targets->all().size()) + " target(s) from " + store.data_dir().string();
    SessionEventRelay session_events;  // iSCSI logins and first reads become boot events once boot runs
    IscsiService iscsi(o.listen, o.threads, targets, what, session_events.callback());
    ServeContext context{store, iscsi.server(), iscsi.endpoints()};

    // The web service serves the boot scripts and DHCP hands out the web service's port, so the web service
    // starts first, answering /boot/ once the boot services run.
    boot::BootCounters boot_counters;
    std::atomic<BootService*> boot_scripts{nullptr};
    WebService web(
        o.web, context,
        [&boot_scripts](std::string_view mac, const boost::asio::ip::address& client) {
            auto* boot = boot_scripts.load();
            return boot ? boot->boot_script(mac, client) : web::BootScriptReply{};
        },
        &boot_counters);
    std::optional<std::uint16_t> http_port;
    if (web.port() != 0) http_port = web.port();
    BootService boot(o.boot, context, http_port, boot_counters);
    boot.record_session_events(session_events);
    boot_scripts.store(&boot);

    // Services start after what they depend on and stop before it.
    log::info("signal ", signals.wait(), ": stopping");
    web.stop();
    boot_scripts.store(nullptr);
    boot.stop();
    iscsi.stop();
    log::info("stopped");
    return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, Action& action) {
    auto o = std::make_shared<ServeOptions>();
    auto* cmd = app.add_subcommand("serve", "Serve every node's disk (and each image draft) over iSCSI");
    add_data_option(*cmd, o->data);
    cmd->add_option("--listen", o->listen, "ADDR:PORT to listen on (repeatable)")->capture_default_str();
    cmd->add_option("--maintenance-chap", o->maintenance_chap,
                    "CHAP USER:SECRET for draft targets (default: generated and logged)");
    cmd->add_option("--threads", o->threads, "Network threads (default: one per core)");
    add_web_service_options(*cmd, o->web);
    add_boot_service_options(*cmd, o->boot);
    cmd->callback([o, &action] { action = [o] { return run_serve(*o); }; });
}

}  // namespace bootherd::cli
