#pragma once
// Every live connection of the server, for session reinstatement, cross-session task management and listing,
// and the limits on them: connections in all and per initiator address, normal sessions per target.
#include <boost/asio/ip/address.hpp>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace bootherd::iscsi {

class Connection;

class SessionRegistry {
  public:
    struct Admission {
        bool admitted = false;
        std::shared_ptr<Connection> evicted;  // a connection still in login phase that made room; close it
    };
    // A new connection from connection->peer_address(). At `max_per_address` connections from that address
    // (or `max_connections` in all), the oldest of them (of all) still in login phase makes room; without one
    // the new connection is not admitted. An evicted connection is forgotten at once.
    Admission add(const std::shared_ptr<Connection>& connection, std::size_t max_connections,
                  std::size_t max_per_address);
    void remove(const Connection* connection);
    // The oldest connection still in login phase, forgotten at once (the caller closes it), or null.
    std::shared_ptr<Connection> evict_oldest_in_login();

    struct SessionClaim {
        bool admitted = false;
        // Sessions this login ends; close them. Older incarnations (same initiator name and ISID):
        std::vector<std::shared_ptr<Connection>> reinstated;
        // At the cap, the oldest session from the same address:
        std::shared_ptr<Connection> displaced;
    };
    // `connection`, from its peer address, has completed a normal-session login to `target` as `initiator`
    // with `isid`. Atomic against concurrent logins; `max_per_target` 0 means no cap.
    SessionClaim claim_session(const Connection& connection, const std::string& target,
                               const std::string& initiator, std::uint64_t isid, std::size_t max_per_target);

    // Normal sessions of a target, except `except`.
    std::vector<std::shared_ptr<Connection>> of_target(const std::string& target,
                                                       const Connection* except) const;
    std::vector<std::shared_ptr<Connection>> all() const;
    std::size_t size() const;

  private:
    struct Entry {
        std::weak_ptr<Connection> connection;
        const Connection* raw = nullptr;
        boost::asio::ip::address address;
        // Set while the connection holds one of its target's session places.
        std::string target, initiator;
        std::uint64_t isid = 0;
        std::uint64_t claimed_at = 0;  // order of the claims: the oldest session goes first
    };
    std::shared_ptr<Connection> evict_oldest_in_login_locked(const boost::asio::ip::address* from);

    mutable std::mutex mutex_;
    std::vector<Entry> entries_;  // in accept order
    std::uint64_t next_claim_ = 1;
};

}  // namespace bootherd::iscsi
