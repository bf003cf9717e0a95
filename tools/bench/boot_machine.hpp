#pragma once
// A simulated diskless machine that boots over and over, as bootherd sees a real one (docs/BOOTS.md):
//   1. firmware: GET /boot/<MAC>.ipxe from the machine's own address (that fetch starts the boot and binds it
//      to the address); a wait script ("sleep N") makes it fetch again N s later; a sanboot script names the
//      target, the initiator name and the CHAP user and secret;
//   2. the firmware's iSCSI login, the boot trace, logout;
//   3. the OS's own login (the boot's "os_login"), then, after --os-seconds, its health report
//      (POST /boot/health state=ok, from the same address), logout;
//   4. after --reboot-delay it boots again, until its --boots are done or the run stops.
// With health reports off (machines whose address binding is off: bootherd refuses their reports), a boot
// ends at the OS's logout.
// A login redirect (status 0x0101, several servers on one catalog: docs/SCALE-OUT.md) is followed by
// libiscsi's login itself; the OS then logs in where the firmware ended up, as iPXE's iBFT tells it.
// libiscsi cannot bind a session's socket to an address, so the iSCSI sessions connect to the machine's own
// address at the script's port: with the server listening on every address and that address local (e.g. on
// lo in a private network namespace), the kernel makes the machine's address the connection's source.
#include <poll.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http_exchange.hpp"
#include "storm_client.hpp"

namespace bootherd::bench {

struct MachineIdentity {
    std::string mac;      // as the script URL names it
    std::string address;  // IPv4, local to this host
};

// Lines "MAC ADDRESS"; blank lines and '#' comments are skipped.
std::vector<MachineIdentity> read_machines(const std::string& path);

struct MachineSettings {
    sockaddr_in http{};       // bootherd's web service (scripts and health reports)
    double os_seconds = 0;    // from the OS's login to its health report
    double reboot_delay = 1;  // from the end of a boot to the next script fetch
    unsigned boots = 1;       // boots per machine; 0: until the run stops
    bool health = true;       // report health (step 3); off: the boot ends at the OS's logout
};

// What every machine counts, for the summary.
struct MachineTotals {
    std::uint64_t boots = 0;             // boots that reached an accepted health report (or the OS's logout)
    std::uint64_t wait_scripts = 0;      // "wait and retry" scripts fetched
    std::vector<double> boot_seconds{};  // script fetch to accepted health report (or OS logout), per boot
    std::uint64_t redirects = 0;         // firmware logins that a login redirect sent to another portal
    // Where a boot's time goes, per boot that ended well: the script fetch (the last one, after any wait
    // script), the firmware's login (connect to READ CAPACITY answered, a redirect included), its trace and
    // logout, and the OS's login and logout.
    std::vector<double> script_seconds{};
    std::vector<double> login_seconds{};
    std::vector<double> trace_seconds{};
    std::vector<double> os_seconds{};
};

class Machine {
  public:
    Machine(Run& run, const Trace& trace, const MachineSettings& settings, MachineTotals& totals,
            const MachineIdentity& identity, unsigned index);

    // Due to power on at `at` (its first script fetch).
    void power_on(Clock::time_point at);
    // Time-driven steps; with `stopping`, no new boot starts.
    void tick(Clock::time_point now, bool stopping);
    // The descriptor and events it waits for, if any.
    std::optional<pollfd> wanted() const;
    void service(short revents);
    // Nothing left to do: its boots are done, or it was told to stop between boots.
    bool finished() const { return step_ == Step::off; }
    // Ends what it is doing (counted as an error when a boot was under way).
    void give_up(const char* why);

  private:
    enum class Step { waiting, script, firmware, os, health, up, off };
    void fetch_script(Clock::time_point now);
    void script_answered(Clock::time_point now);
    void session_ended(Clock::time_point now);
    void firmware_done(Clock::time_point now);
    void boot_done(Clock::time_point now);
    void report_health();
    void health_answered(Clock::time_point now);
    void failed(const std::string& what, Clock::time_point now);
    void reboot_at(Clock::time_point at);

    Run& run_;
    const Trace& trace_;
    const Trace empty_trace_{};
    const MachineSettings& settings_;
    MachineTotals& totals_;
    MachineIdentity identity_;
    unsigned index_;
    std::string label_;
    std::string portal_;
    ClientIdentity target_{};
    Step step_ = Step::off;
    unsigned boots_started_ = 0;  // sanboot scripts received
    Clock::time_point due_{};
    Clock::time_point boot_started_{};
    Clock::time_point script_answered_{};
    double login_seconds_ = 0;
    double trace_seconds_ = 0;
    std::unique_ptr<HttpExchange> http_{};
    std::unique_ptr<Client> session_{};
};

// A sanboot script's target, initiator name and CHAP, and the iSCSI port it names; nullopt for anything else.
// `retry_seconds` gets a wait script's sleep.
std::optional<ClientIdentity> parse_sanboot_script(const std::string& script, int& port,
                                                   std::optional<double>& retry_seconds);

}  // namespace bootherd::bench
