#include "target/iscsi/login.hpp"

#include <algorithm>

#include "target/iscsi/text.hpp"

namespace bootherd::iscsi {
namespace {

constexpr unsigned kMaxLoginPdus = 64;

const std::string* find_value(const std::vector<KeyValue>& pairs, std::string_view key) {
    const auto it =
        std::find_if(pairs.begin(), pairs.end(), [&](const KeyValue& kv) { return kv.key == key; });
    return it != pairs.end() ? &it->value : nullptr;
}

bool list_contains(std::string_view list, std::string_view item) {
    while (true) {
        const std::size_t comma = list.find(',');
        if (list.substr(0, comma) == item) return true;
        if (comma == std::string_view::npos) return false;
        list.remove_prefix(comma + 1);
    }
}

bool is_identity_key(std::string_view key) {
    return key == "InitiatorName" || key == "SessionType" || key == "TargetName" || key == "InitiatorAlias";
}

bool is_chap_key(std::string_view key) {
    return key.starts_with("CHAP_");
}

}  // namespace

LoginMachine::LoginMachine(const TargetDirectory& targets, std::uint16_t portal_group_tag,
                           std::function<std::uint16_t()> allocate_tsih, ChallengeSource challenges,
                           boost::asio::ip::address peer, LoginRouter router)
    : targets_(targets),
      portal_group_tag_(portal_group_tag),
      allocate_tsih_(std::move(allocate_tsih)),
      challenges_(std::move(challenges)),
      peer_(peer),
      router_(std::move(router)) {}

LoginReply LoginMachine::final_reply(const LoginRequest& request, LoginStatus status) {
    LoginReply reply;
    reply.header.current_stage = request.current_stage;
    reply.header.isid = request.isid;
    reply.header.initiator_task_tag = request.initiator_task_tag;
    reply.header.status_class = status.status_class;
    reply.header.status_detail = status.detail;
    return reply;
}

LoginReply LoginMachine::fail(const LoginRequest& request, LoginStatus status, std::string reason) {
    state_ = State::failed;
    failure_reason_ = std::move(reason);
    return final_reply(request, status);
}

LoginReply LoginMachine::handle(const LoginRequest& request, std::span<const std::uint8_t> data) {
    if (state_ != State::in_progress)
        return fail(request, login_status::initiator_error, "login already over");
    if (++pdus_ > kMaxLoginPdus) return fail(request, login_status::initiator_error, "too many login PDUs");
    if (pdus_ == 1) {
        isid_ = request.isid;
        if (request.version_min > 0)
            return fail(request, login_status::unsupported_version, "unsupported iSCSI version");
        // One connection per session: there is never an existing session to add a connection to.
        if (request.tsih != 0)
            return fail(request, login_status::session_does_not_exist,
                        "login to an existing session (TSIH != 0)");
    } else if (request.isid != isid_ || request.tsih != 0) {
        return fail(request, login_status::initiator_error, "ISID or TSIH changed during login");
    }
    if (request.current_stage != stage_ &&
        !(request.current_stage == kOperationalStage && stage_ == kSecurityStage && !identified_)) {
        return fail(request, login_status::initiator_error, "unexpected login stage");
    }
    stage_ = request.current_stage;
    if (request.transit && (request.next_stage <= stage_ || request.next_stage == 2))
        return fail(request, login_status::initiator_error, "invalid next stage");

    if (pending_text_.size() + data.size() > kMaxTextSize)
        return fail(request, login_status::initiator_error, "login text too long");
    pending_text_.insert(pending_text_.end(), data.begin(), data.end());

    LoginReply reply;
    reply.header.current_stage = stage_;
    reply.header.isid = isid_;
    reply.header.initiator_task_tag = request.initiator_task_tag;
    if (request.continue_bit) return reply;  // more text follows: acknowledge with an empty response

    if (auto failure = process_keys(reply.text)) {
        if (!redirect_) return fail(request, *failure, failure_reason_);
        // Only the address: none of the keys answered so far (TargetPortalGroupTag, AuthMethod) apply there.
        state_ = State::redirected;
        LoginReply moved = final_reply(request, *failure);
        append_pair(moved.text, "TargetAddress", target_address(*redirect_));
        return moved;
    }

    bool may_transit = request.transit;
    if (stage_ == kSecurityStage && may_transit && auth_ != Auth::done) {
        if (auth_ == Auth::not_started && !auth_required()) {
            auth_ = Auth::done;  // AuthMethod defaults to None
        } else if (auth_ == Auth::not_started) {
            return fail(request, login_status::authentication_failure, "authentication required");
        } else {
            may_transit = false;  // the CHAP exchange is still running
        }
    }
    if (stage_ == kOperationalStage) negotiator_.declare(reply.text);
    if (may_transit) {
        reply.header.transit = true;
        reply.header.next_stage = request.next_stage;
        stage_ = request.next_stage;
        if (stage_ == kFullFeaturePhase) {
            tsih_ = allocate_tsih_();
            reply.header.tsih = tsih_;
            state_ = State::complete;
        }
    }
    return reply;
}

std::optional<LoginStatus> LoginMachine::identify(const std::vector<KeyValue>& pairs) {
    const std::string* initiator = find_value(pairs, "InitiatorName");
    if (!initiator || initiator->empty()) {
        failure_reason_ = "InitiatorName missing";
        return login_status::missing_parameter;
    }
    initiator_name_ = *initiator;
    const std::string* type = find_value(pairs, "SessionType");
    if (type && *type != "Normal" && *type != "Discovery") {
        failure_reason_ = "invalid SessionType";
        return login_status::initiator_error;
    }
    discovery_ = type && *type == "Discovery";
    negotiator_ = Negotiator(discovery_);
    if (!discovery_) {
        const std::string* name = find_value(pairs, "TargetName");
        if (!name || name->empty()) {
            failure_reason_ = "TargetName missing";
            return login_status::missing_parameter;
        }
        target_name_ = *name;
        if (router_ && (redirect_ = router_(initiator_name_, target_name_)))
            return login_status::target_moved_temporarily;
        target_ = targets_.find(*name);
        if (!target_) {
            failure_reason_ = "unknown target " + *name;
            return login_status::not_found;
        }
        if (!target_->allows(initiator_name_)) {
            failure_reason_ = "initiator not allowed on " + *name;
            return login_status::authorization_failure;
        }
        if (!target_->allows_address(peer_)) {
            failure_reason_ = "initiator address " + peer_.to_string() + " not allowed on " + *name;
            return login_status::authorization_failure;
        }
        if (stage_ != kSecurityStage && target_->chap) {
            failure_reason_ = "security stage skipped but CHAP is required";
            return login_status::authentication_failure;
        }
    }
    identified_ = true;
    return std::nullopt;
}

std::optional<LoginStatus> LoginMachine::process_keys(std::string& response) {
    ParsedText parsed = parse_text(pending_text_);
    pending_text_.clear();
    if (parsed.error != TextError::none) {
        failure_reason_ =
            parsed.error == TextError::missing_equals ? "text without '='" : "malformed login text";
        return login_status::initiator_error;
    }
    const bool first = !identified_;
    if (first) {
        if (auto failure = identify(parsed.pairs)) return failure;
        append_pair(response, "TargetPortalGroupTag", std::to_string(portal_group_tag_));
    }
    bool chap_response_seen = false;
    for (const KeyValue& kv : parsed.pairs) {
        if (is_identity_key(kv.key)) {
            // Some initiators (libiscsi in discovery) repeat their identity in every login PDU: harmless when
            // unchanged, an error when it differs.
            if (!first && kv.key != "InitiatorAlias" && !identity_repeated_consistently(kv)) {
                failure_reason_ = "identity key " + kv.key + " repeated";
                return login_status::initiator_error;
            }
            continue;
        }
        if (kv.key == "AuthMethod") {
            if (stage_ != kSecurityStage || auth_ != Auth::not_started) {
                failure_reason_ = "AuthMethod outside the security stage or repeated";
                return login_status::initiator_error;
            }
            const bool discovery_chap =
                discovery_ && list_contains(kv.value, "CHAP") && any_target_uses_chap();
            if (auth_required() || discovery_chap) {
                if (!list_contains(kv.value, "CHAP")) {
                    failure_reason_ = "CHAP required but not offered";
                    return login_status::authentication_failure;
                }
                append_pair(response, "AuthMethod", "CHAP");
                auth_ = Auth::wait_algorithm;
            } else if (list_contains(kv.value, "None")) {
                append_pair(response, "AuthMethod", "None");
                auth_ = Auth::done;
            } else {
                append_pair(response, "AuthMethod", "Reject");
                failure_reason_ = "no acceptable AuthMethod";
                return login_status::authentication_failure;
            }
            continue;
        }
        if (kv.key == "CHAP_A") {
            if (auth_ != Auth::wait_algorithm) {
                failure_reason_ = "CHAP_A out of sequence";
                return login_status::initiator_error;
            }
            if (!list_contains(kv.value, "5")) {
                failure_reason_ = "CHAP without MD5";
                return login_status::authentication_failure;
            }
            challenge_ = challenges_();
            append_pair(response, "CHAP_A", "5");
            append_pair(response, "CHAP_I", std::to_string(challenge_.identifier));
            append_pair(response, "CHAP_C", chap::encode_hex(challenge_.value));
            auth_ = Auth::wait_response;
            continue;
        }
        if (is_chap_key(kv.key)) {
            if (auth_ != Auth::wait_response) {
                failure_reason_ = kv.key + " out of sequence";
                return login_status::initiator_error;
            }
            chap_response_seen = true;
            continue;
        }
        switch (negotiator_.offer(kv.key, kv.value, response)) {
            case OfferResult::answered:
                break;
            case OfferResult::duplicate:
                failure_reason_ = "key " + kv.key + " negotiated twice";
                return login_status::initiator_error;
            case OfferResult::not_operational:
                append_pair(response, kv.key, "NotUnderstood");
                break;
        }
    }
    if (chap_response_seen) return verify_chap_response(parsed.pairs, response);
    return std::nullopt;
}

std::optional<LoginStatus> LoginMachine::verify_chap_response(const std::vector<KeyValue>& pairs,
                                                              std::string& response) {
    const std::string* name = find_value(pairs, "CHAP_N");
    const std::string* value = find_value(pairs, "CHAP_R");
    if (!name || !value) {
        failure_reason_ = "CHAP_N or CHAP_R missing";
        return login_status::authentication_failure;
    }
    const auto received = chap::decode_binary(*value);
    // A normal session checks its target's credentials; a discovery session any target's with this user.
    // Every candidate is evaluated so that timing does not reveal which check failed.
    std::vector<std::shared_ptr<const TargetNode>> candidates;
    if (discovery_)
        candidates = chap_candidates(*name);
    else
        candidates.push_back(target_);
    std::shared_ptr<const TargetNode> matched;
    for (const auto& node : candidates) {
        const Credentials& expected = *node->chap;
        const chap::Digest digest = chap::response(challenge_.identifier, expected.secret, challenge_.value);
        const bool response_ok = received && chap::matches(*received, digest);
        const bool name_ok = *name == expected.user;
        if (response_ok && name_ok && !matched) matched = node;
    }
    if (!matched) {
        failure_reason_ = "CHAP authentication failed for user " + *name;
        return login_status::authentication_failure;
    }
    authenticated_user_ = *name;
    const std::string* mutual_id = find_value(pairs, "CHAP_I");
    const std::string* mutual_challenge = find_value(pairs, "CHAP_C");
    if (matched->mutual_chap) {
        if (!mutual_id || !mutual_challenge) {
            failure_reason_ = "mutual CHAP configured but the initiator sent no challenge";
            return login_status::authentication_failure;
        }
        std::uint64_t identifier = 0;
        const auto challenge = chap::decode_binary(*mutual_challenge);
        if (!parse_number(*mutual_id, identifier) || identifier > 255 || !challenge || challenge->empty()) {
            failure_reason_ = "malformed mutual CHAP challenge";
            return login_status::initiator_error;
        }
        // A reflected challenge would let an attacker use us as an oracle for our own response.
        if (challenge->size() == challenge_.value.size() &&
            std::equal(challenge->begin(), challenge->end(), challenge_.value.begin())) {
            failure_reason_ = "mutual CHAP challenge reflects ours";
            return login_status::authentication_failure;
        }
        const chap::Digest answer =
            chap::response(static_cast<std::uint8_t>(identifier), matched->mutual_chap->secret, *challenge);
        append_pair(response, "CHAP_N", matched->mutual_chap->user);
        append_pair(response, "CHAP_R", chap::encode_hex(answer));
    } else if (mutual_id || mutual_challenge) {
        failure_reason_ = "mutual CHAP requested but not configured";
        return login_status::authentication_failure;
    }
    auth_ = Auth::done;
    return std::nullopt;
}

bool LoginMachine::identity_repeated_consistently(const KeyValue& kv) const {
    if (kv.key == "InitiatorName") return kv.value == initiator_name_;
    if (kv.key == "SessionType") return (kv.value == "Discovery") == discovery_;
    if (kv.key == "TargetName") return target_ && kv.value == target_->iqn;
    return false;
}

bool LoginMachine::any_target_uses_chap() const {
    const auto nodes = targets_.all();
    return std::any_of(nodes.begin(), nodes.end(), [](const auto& node) { return node->chap.has_value(); });
}

std::vector<std::shared_ptr<const TargetNode>> LoginMachine::chap_candidates(std::string_view user) const {
    std::vector<std::shared_ptr<const TargetNode>> found;
    for (auto& node : targets_.all())
        if (node->chap && node->chap->user == user && node->allows(initiator_name_) &&
            node->allows_address(peer_))
            found.push_back(node);
    return found;
}

}  // namespace bootherd::iscsi
