#pragma once
// Rules shared by single-node enrolment (nodes_repo.cpp) and CSV import (node_import.cpp). Not public API.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "db/database.hpp"

namespace bootherd::db {

struct NodeIdentity {
    std::string name;
    std::string mac;  // normalised
    std::string iqn;
    std::optional<std::string> fixed_ip;    // canonical dotted quad
    std::optional<std::string> hostname{};  // explicit, canonical
    std::optional<std::string> effective_hostname{};
};

struct NodePlacement {
    std::optional<std::int64_t> group_id;
    std::optional<std::int64_t> image_id;
    std::optional<bool> persistent;
    bool enabled = true;
    std::optional<bool> bind_address{};
};

struct NodeConflict {
    std::string field;
    std::string message;
};

bool exists(Database& db, std::string_view table, std::int64_t id);
std::optional<std::string> canonical_ipv4(std::string_view text);
// The canonical form of a fixed address, or InvalidArgument("fixed_ip") for anything but a unicast host
// address (0.0.0.0/8, loopback, link-local, multicast and reserved addresses are refused).
std::string require_fixed_ip(std::string_view text);
// Fills in the explicit host name (validated) and the effective one (else the name, when it is a host name).
void set_hostname(NodeIdentity& identity, const std::optional<std::string>& hostname);

// The first stored node other than `self` that clashes with the identity's name, MAC, IQN, fixed IP or
// effective host name.
std::optional<NodeConflict> find_node_conflict(Database& db, const NodeIdentity& identity,
                                               std::optional<std::int64_t> self);

// Validates name, MAC, fixed IP and host name and checks them against stored nodes; throws
// InvalidArgument/Conflict.
NodeIdentity checked_identity(Database& db, std::string_view name, std::string_view mac,
                              const std::optional<std::string>& fixed_ip,
                              const std::optional<std::string>& hostname, std::optional<std::int64_t> self);
void check_placement(Database& db, const NodePlacement& placement);

// Inserts an already validated node with fresh CHAP credentials; returns its id.
std::int64_t insert_node(Database& db, const NodeIdentity& identity, const NodePlacement& placement);

}  // namespace bootherd::db
