#pragma once
// The login phase (RFC 7143 §6.3): security stage (AuthMethod None or CHAP/MD5, one-way or mutual) and the
// operational stage, as a pure state machine fed one Login Request at a time; or a redirect to another server
// before either. No sockets, no clocks.
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "target/iscsi/chap.hpp"
#include "target/iscsi/negotiation.hpp"
#include "target/iscsi/pdu.hpp"
#include "target/iscsi/redirect.hpp"
#include "target/iscsi/target_directory.hpp"
#include "target/iscsi/text.hpp"

namespace bootherd::iscsi {

struct LoginStatus {
    std::uint8_t status_class = 0;
    std::uint8_t detail = 0;
};
namespace login_status {
inline constexpr LoginStatus success{0, 0};
inline constexpr LoginStatus target_moved_temporarily{1, 1};
inline constexpr LoginStatus initiator_error{2, 0};
inline constexpr LoginStatus authentication_failure{2, 1};
inline constexpr LoginStatus authorization_failure{2, 2};
inline constexpr LoginStatus not_found{2, 3};
inline constexpr LoginStatus unsupported_version{2, 5};
inline constexpr LoginStatus missing_parameter{2, 7};
inline constexpr LoginStatus session_does_not_exist{2, 10};
inline constexpr LoginStatus target_error{3, 0};
inline constexpr LoginStatus out_of_resources{3, 2};
}  // namespace login_status

inline constexpr std::uint8_t kSecurityStage = 0;
inline constexpr std::uint8_t kOperationalStage = 1;
inline constexpr std::uint8_t kFullFeaturePhase = 3;

struct LoginReply {
    LoginResponse header;
    std::string text;
};

// Makes a CHAP challenge; tests substitute a fixed one.
using ChallengeSource = std::function<chap::Challenge()>;

class LoginMachine {
  public:
    // redirected: the response carries status 01/01 and TargetAddress; the connection ends after it.
    enum class State { in_progress, complete, failed, redirected };

    // `peer` is the initiator's address, checked against each target's allowed_addresses. `router` (empty:
    // never redirect) is asked once, for a normal session, when the first Login Request is complete.
    LoginMachine(const TargetDirectory& targets, std::uint16_t portal_group_tag,
                 std::function<std::uint16_t()> allocate_tsih,
                 ChallengeSource challenges = chap::make_challenge, boost::asio::ip::address peer = {},
                 LoginRouter router = {});

    // Processes one Login Request and its data segment; returns the response to send.
    LoginReply handle(const LoginRequest& request, std::span<const std::uint8_t> data);
    // Turns a login the machine completed into a failure decided outside it (the server's session limits).
    LoginReply refuse(const LoginRequest& request, LoginStatus status, std::string reason) {
        return fail(request, status, std::move(reason));
    }

    State state() const { return state_; }
    const std::string& failure_reason() const { return failure_reason_; }

    // Valid once known (after the first PDU) and through completion.
    bool discovery() const { return discovery_; }
    const std::string& initiator_name() const { return initiator_name_; }
    // The TargetName the initiator asked for (normal sessions), whether or not it exists here.
    const std::string& target_name() const { return target_name_; }
    std::uint64_t isid() const { return isid_; }
    std::uint16_t tsih() const { return tsih_; }
    const std::shared_ptr<const TargetNode>& target() const { return target_; }
    // The CHAP user the initiator proved to be; empty without CHAP.
    const std::string& authenticated_user() const { return authenticated_user_; }
    SessionParams params() const { return negotiator_.params(); }
    // Where the login was sent; set in state redirected.
    const std::optional<Redirect>& redirect() const { return redirect_; }

  private:
    enum class Auth { not_started, wait_algorithm, wait_response, done };

    LoginReply fail(const LoginRequest& request, LoginStatus status, std::string reason);
    // A final response with a non-zero status: no transit, no TSIH, no keys.
    static LoginReply final_reply(const LoginRequest& request, LoginStatus status);
    // Returns a non-zero status when the login ends with this PDU: the keys make it impossible, or the router
    // redirected it (redirect_ set).
    std::optional<LoginStatus> process_keys(std::string& response);
    std::optional<LoginStatus> identify(const std::vector<KeyValue>& pairs);
    std::optional<LoginStatus> verify_chap_response(const std::vector<KeyValue>& pairs,
                                                    std::string& response);
    // Normal sessions: the target's CHAP setting decides. Discovery sessions authenticate with CHAP when the
    // initiator offers it and some target has CHAP credentials; SendTargets then also lists the targets whose
    // CHAP user it proved to be.
    bool auth_required() const { return !discovery_ && target_ && target_->chap.has_value(); }
    bool identity_repeated_consistently(const KeyValue& kv) const;
    bool any_target_uses_chap() const;
    // The targets whose CHAP user is `user` and who admit this initiator: the credentials a response may
    // match.
    std::vector<std::shared_ptr<const TargetNode>> chap_candidates(std::string_view user) const;

    const TargetDirectory& targets_;
    std::uint16_t portal_group_tag_;
    std::function<std::uint16_t()> allocate_tsih_;
    ChallengeSource challenges_;
    boost::asio::ip::address peer_;
    LoginRouter router_;

    State state_ = State::in_progress;
    std::string failure_reason_;
    unsigned pdus_ = 0;
    std::uint8_t stage_ = kSecurityStage;
    bool identified_ = false;
    bool discovery_ = false;
    std::string initiator_name_;
    std::string target_name_;
    std::optional<Redirect> redirect_;
    std::uint64_t isid_ = 0;
    std::uint16_t tsih_ = 0;
    std::shared_ptr<const TargetNode> target_;
    std::string authenticated_user_;
    Negotiator negotiator_{false};
    Auth auth_ = Auth::not_started;
    chap::Challenge challenge_{};
    std::vector<std::uint8_t> pending_text_;  // accumulated across C-bit PDUs
};

}  // namespace bootherd::iscsi
