#include "boot_machine.hpp"

#include <fstream>
#include <sstream>
#include <stdexcept>

namespace bootherd::bench {
namespace {

// The value after "set NAME " on a line of its own, or "".
std::string script_setting(const std::string& script, const std::string& name) {
    const std::string key = "\nset " + name + " ";
    const auto at = ("\n" + script).find(key);
    if (at == std::string::npos) return {};
    const auto begin = at + key.size() - 1;
    return script.substr(begin, script.find('\n', begin) - begin);
}

}  // namespace

std::vector<MachineIdentity> read_machines(const std::string& path) {
    std::ifstream in(path);
    if (!in) throw std::runtime_error(path + ": cannot read");
    std::vector<MachineIdentity> out;
    std::string line;
    for (unsigned number = 1; std::getline(in, line); ++number) {
        if (line.empty() || line[0] == '#') continue;
        std::istringstream fields(line);
        MachineIdentity m;
        std::string extra;
        if (!(fields >> m.mac >> m.address) || (fields >> extra))
            throw std::runtime_error(path + ":" + std::to_string(number) + ": want MAC ADDRESS");
        out.push_back(std::move(m));
    }
    return out;
}

std::optional<ClientIdentity> parse_sanboot_script(const std::string& script, int& port,
                                                   std::optional<double>& retry_seconds) {
    retry_seconds.reset();
    const auto sanboot = script.find("\nsanboot iscsi:");
    if (sanboot == std::string::npos) {
        const auto sleep = script.find("\nsleep ");
        if (sleep != std::string::npos) retry_seconds = std::atof(script.c_str() + sleep + 7);
        return std::nullopt;
    }
    // iscsi:SERVER:PROTOCOL:PORT:LUN:TARGET (the target name has colons of its own)
    std::istringstream uri(script.substr(sanboot + 15, script.find('\n', sanboot + 1) - sanboot - 15));
    std::string server, protocol, port_text, lun_text, target;
    if (!std::getline(uri, server, ':') || !std::getline(uri, protocol, ':') ||
        !std::getline(uri, port_text, ':') || !std::getline(uri, lun_text, ':') || !(uri >> target))
        return std::nullopt;
    port = port_text.empty() ? 3260 : std::atoi(port_text.c_str());
    ClientIdentity identity{.target = target,
                            .initiator = script_setting(script, "initiator-iqn"),
                            .lun = lun_text.empty() ? 0 : std::atoi(lun_text.c_str()),
                            .chap_user = script_setting(script, "username"),
                            .chap_secret = script_setting(script, "password")};
    if (identity.initiator.empty() || port <= 0 || port > 65535) return std::nullopt;
    return identity;
}

Machine::Machine(Run& run, const Trace& trace, const MachineSettings& settings, MachineTotals& totals,
                 const MachineIdentity& identity, unsigned index)
    : run_(run),
      trace_(trace),
      settings_(settings),
      totals_(totals),
      identity_(identity),
      index_(index),
      label_("machine " + std::to_string(index) + " (" + identity.mac + " at " + identity.address + ")") {}

void Machine::power_on(Clock::time_point at) {
    step_ = Step::waiting;
    due_ = at;
}

void Machine::tick(Clock::time_point now, bool stopping) {
    switch (step_) {
        case Step::waiting:
            if (now < due_) return;
            if (stopping) {
                step_ = Step::off;
                return;
            }
            return fetch_script(now);
        case Step::up:
            if (now >= due_) report_health();
            return;
        default:
            return;
    }
}

std::optional<pollfd> Machine::wanted() const {
    if ((step_ == Step::script || step_ == Step::health) && http_ && !http_->done())
        return pollfd{http_->fd(), http_->events(), 0};
    if ((step_ == Step::firmware || step_ == Step::os) && session_ && session_->live()) {
        const int events = iscsi_which_events(session_->context());
        if (events != 0) return pollfd{iscsi_get_fd(session_->context()), static_cast<short>(events), 0};
    }
    return std::nullopt;
}

void Machine::service(short revents) {
    const auto now = Clock::now();
    switch (step_) {
        case Step::script:
            http_->service(revents);
            if (http_->done()) script_answered(now);
            return;
        case Step::health:
            http_->service(revents);
            if (http_->done()) health_answered(now);
            return;
        case Step::firmware:
        case Step::os:
            session_->service(revents);
            if (!session_->live()) session_ended(now);
            return;
        default:
            return;
    }
}

void Machine::give_up(const char* why) {
    if (step_ != Step::off && step_ != Step::waiting)
        run_.errors.report(label_ + ": " + why + ": gave up in the middle of a boot");
    step_ = Step::off;
    http_.reset();
    session_.reset();
}

void Machine::fetch_script(Clock::time_point now) {
    step_ = Step::script;
    boot_started_ = now;
    http_ = std::make_unique<HttpExchange>(identity_.address, settings_.http, "GET",
                                           "/boot/" + identity_.mac + ".ipxe");
    if (http_->done()) script_answered(now);
}

void Machine::script_answered(Clock::time_point now) {
    if (http_->failed()) return failed("script fetch: " + http_->error(), now);
    if (http_->status() != 200) return failed("script fetch: HTTP " + std::to_string(http_->status()), now);
    int port = 0;
    std::optional<double> retry;
    auto target = parse_sanboot_script(http_->body(), port, retry);
    http_.reset();
    if (!target) {
        if (!retry) return failed("script fetch: neither a sanboot nor a wait script", now);
        ++totals_.wait_scripts;
        step_ = Step::waiting;
        due_ = now + from_seconds(*retry);
        return;
    }
    script_answered_ = now;
    target_ = std::move(*target);
    portal_ = identity_.address + ":" + std::to_string(port);
    ++boots_started_;
    step_ = Step::firmware;
    session_ = std::make_unique<Client>(run_, trace_, target_, index_, portal_, label_ + " firmware");
    session_->start();
    if (!session_->live()) session_ended(now);
}

void Machine::session_ended(Clock::time_point now) {
    // A failed session has reported itself.
    if (session_->phase() != AsyncSession::Phase::closed)
        return reboot_at(now + from_seconds(settings_.reboot_delay));
    if (step_ == Step::firmware) return firmware_done(now);
    totals_.os_seconds.push_back(std::chrono::duration<double>(now - session_->started()).count());
    session_.reset();
    if (!settings_.health) return boot_done(now);
    step_ = Step::up;
    due_ = now + from_seconds(settings_.os_seconds);
}

void Machine::firmware_done(Clock::time_point now) {
    login_seconds_ = std::chrono::duration<double>(session_->logged_in() - session_->started()).count();
    trace_seconds_ = std::chrono::duration<double>(now - session_->logged_in()).count();
    if (const auto moved = session_->redirected_to(); !moved.empty()) {
        ++totals_.redirects;
        // "HOST:PORT,TAG": the OS goes to that port, at the machine's own address like every session here.
        const auto port_end = moved.find(',');
        const auto port_begin = moved.rfind(':', port_end);
        if (port_begin != std::string::npos)
            portal_ = identity_.address + moved.substr(port_begin, port_end - port_begin);
    }
    step_ = Step::os;
    session_ =
        std::make_unique<Client>(run_, empty_trace_, target_, index_ + 0x10000u, portal_, label_ + " OS");
    session_->start();
    if (!session_->live()) session_ended(now);
}

void Machine::boot_done(Clock::time_point now) {
    ++totals_.boots;
    totals_.boot_seconds.push_back(std::chrono::duration<double>(now - boot_started_).count());
    totals_.script_seconds.push_back(std::chrono::duration<double>(script_answered_ - boot_started_).count());
    totals_.login_seconds.push_back(login_seconds_);
    totals_.trace_seconds.push_back(trace_seconds_);
    reboot_at(now + from_seconds(settings_.reboot_delay));
}

void Machine::report_health() {
    step_ = Step::health;
    http_ = std::make_unique<HttpExchange>(identity_.address, settings_.http, "POST", "/boot/health",
                                           "state=ok&message=bootstorm");
    if (http_->done()) health_answered(Clock::now());
}

void Machine::health_answered(Clock::time_point now) {
    if (http_->failed()) return failed("health report: " + http_->error(), now);
    if (http_->status() != 200)
        return failed("health report: HTTP " + std::to_string(http_->status()) + " " + http_->body(), now);
    boot_done(now);
}

void Machine::failed(const std::string& what, Clock::time_point now) {
    run_.errors.report(label_ + ": " + what);
    reboot_at(now + from_seconds(settings_.reboot_delay));
}

void Machine::reboot_at(Clock::time_point at) {
    http_.reset();
    session_.reset();
    if (settings_.boots != 0 && boots_started_ >= settings_.boots) {
        step_ = Step::off;
        return;
    }
    step_ = Step::waiting;
    due_ = at;
}

}  // namespace bootherd::bench
