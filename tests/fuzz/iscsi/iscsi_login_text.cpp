// Fuzzes login text parsing, negotiation and the login state machine. The input is split into login PDUs at
// 0xff bytes; the byte after each 0xff selects the header flags (stage, transit, continue).
#include <cstddef>
#include <cstdint>
#include <memory>

#include "target/iscsi/login.hpp"

using namespace bootherd::iscsi;

namespace {

class FuzzDirectory final : public TargetDirectory {
  public:
    FuzzDirectory() {
        node_ = std::make_shared<TargetNode>();
        node_->iqn = "iqn.2026-01.fuzz:disk";
        node_->chap = Credentials{"user", "secretsecret"};
        node_->mutual_chap = Credentials{"target", "targetsecret"};
        open_ = std::make_shared<TargetNode>();
        open_->iqn = "iqn.2026-01.fuzz:open";
    }
    std::shared_ptr<const TargetNode> find(std::string_view iqn) const override {
        if (iqn == node_->iqn) return node_;
        if (iqn == open_->iqn) return open_;
        return nullptr;
    }
    std::vector<std::shared_ptr<const TargetNode>> all() const override { return {node_, open_}; }

  private:
    std::shared_ptr<TargetNode> node_;
    std::shared_ptr<TargetNode> open_;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const FuzzDirectory directory;
    // Logins to a target whose name ends in "moved" are redirected (the redirect path is fuzzed too).
    const LoginRouter router = [](std::string_view, std::string_view target) -> std::optional<Redirect> {
        if (!target.ends_with("moved")) return std::nullopt;
        return Redirect{boost::asio::ip::make_address("fd00::2"), 3260, 1};
    };
    LoginMachine machine(
        directory, 1, [] { return std::uint16_t{1}; }, [] { return chap::Challenge{}; }, {}, router);
    std::span<const std::uint8_t> rest(data, size);
    std::uint8_t flags = rest.empty() ? 0x81 : rest[0];
    if (!rest.empty()) rest = rest.subspan(1);
    while (machine.state() == LoginMachine::State::in_progress) {
        std::size_t end = 0;
        while (end < rest.size() && rest[end] != 0xff)
            ++end;
        LoginRequest request;
        request.transit = (flags & 0x80) != 0;
        request.continue_bit = !request.transit && (flags & 0x40) != 0;
        request.current_stage = (flags >> 2) & 3;
        request.next_stage = flags & 3;
        const LoginReply reply = machine.handle(request, rest.first(end));
        (void)parse_text(
            std::span(reinterpret_cast<const std::uint8_t*>(reply.text.data()), reply.text.size()));
        if (end + 1 >= rest.size()) break;
        flags = rest[end + 1];
        rest = rest.subspan(end + 2);
    }
    if (machine.state() == LoginMachine::State::complete) (void)machine.params();
    return 0;
}
