#pragma once
// Every live connection of the server, for session reinstatement, cross-session task management and listing.
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bootherd::iscsi {

class Connection;

class SessionRegistry {
  public:
    void add(const std::shared_ptr<Connection>& connection);
    void remove(const Connection* connection);

    // Connections in full feature phase with this initiator, ISID and target (an older incarnation of a
    // session).
    std::vector<std::shared_ptr<Connection>> find_session(const std::string& initiator, std::uint64_t isid,
                                                          const std::string& target) const;
    // Normal sessions of a target, except `except`.
    std::vector<std::shared_ptr<Connection>> of_target(const std::string& target,
                                                       const Connection* except) const;
    std::vector<std::shared_ptr<Connection>> all() const;
    std::size_t size() const;

  private:
    mutable std::mutex mutex_;
    std::vector<std::weak_ptr<Connection>> connections_;
};

}  // namespace bootherd::iscsi
