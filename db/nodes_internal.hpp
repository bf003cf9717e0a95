#pragma once
// Rules shared by single-node enrolment (nodes_repo.cpp) and CSV import (node_import.cpp). Not public API.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "db/sqlite.hpp"

namespace bootherd::db {

struct NodeIdentity {
    std::string name;
    std::string mac;  // normalised
    std::string iqn;
    std::optional<std::string> fixed_ip;  // canonical dotted quad
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

bool exists(sqlite::Database& db, std::string_view table, std::int64_t id);
std::optional<std::string> canonical_ipv4(std::string_view text);

// The first stored node other than `self` that clashes with the identity's name, MAC, IQN or fixed IP.
std::optional<NodeConflict> find_node_conflict(sqlite::Database& db, const NodeIdentity& identity,
                                               std::optional<std::int64_t> self);

// Validates name, MAC and fixed IP and checks them against stored nodes; throws InvalidArgument/Conflict.
NodeIdentity checked_identity(sqlite::Database& db, std::string_view name, std::string_view mac,
                              const std::optional<std::string>& fixed_ip, std::optional<std::int64_t> self);
void check_placement(sqlite::Database& db, const NodePlacement& placement);

// Inserts an already validated node with fresh CHAP credentials; returns its id.
std::int64_t insert_node(sqlite::Database& db, const NodeIdentity& identity, const NodePlacement& placement);

}  // namespace bootherd::db
