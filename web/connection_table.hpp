#pragma once
// The HTTP server's open connections, for its caps: a global one and one per client address. When the
// table is full, or the process runs out of descriptors, idle keep-alive connections go first (oldest idle
// first), then those still reading a request header (the longest reading first: a real client sends one in
// milliseconds), so a flood of idle or slow sockets cannot lock out a client that wants to send a request.
// Used on the network thread only (not thread-safe).
#include <boost/asio/ip/address.hpp>
#include <chrono>
#include <cstddef>
#include <functional>
#include <list>
#include <map>
#include <optional>

namespace bootherd::web {

class ConnectionTable {
    struct Entry;
    using Entries = std::list<Entry>;

  public:
    enum class State { busy, idle, reading };

    struct Limits {
        std::size_t total = 512;
        std::size_t per_address = 64;
    };

    // Releases its place in the table when destroyed.
    class Ticket {
      public:
        Ticket() = default;
        Ticket(Ticket&& other) noexcept;
        Ticket& operator=(Ticket&& other) noexcept;
        ~Ticket();

        // How to close the connection when it is evicted; set once its stream exists.
        void on_evict(std::function<void()> close);
        // idle: waiting for the first byte of a request; reading: its header. Both may be evicted.
        void set_state(State state);

      private:
        friend class ConnectionTable;
        Ticket(ConnectionTable* table, Entries::iterator entry) : table_(table), entry_(entry) {}
        ConnectionTable* table_ = nullptr;
        Entries::iterator entry_{};
    };

    explicit ConnectionTable(Limits limits) : limits_(limits) {}
    ConnectionTable(const ConnectionTable&) = delete;
    ConnectionTable& operator=(const ConnectionTable&) = delete;

    // A place for a new connection from `client`. At a cap, an idle or reading connection (of that address
    // for its cap, of anyone for the total) is evicted to make room; nullopt when there is none.
    std::optional<Ticket> admit(const boost::asio::ip::address& client);
    // Closes up to `count` idle or reading connections, in eviction order; returns how many.
    std::size_t evict(std::size_t count);

    std::size_t size() const { return entries_.size() - evicted_; }  // evicted ones are on their way out
    std::size_t evictable() const { return idle_.size() + reading_.size(); }

  private:
    using Queue = std::list<Entries::iterator>;  // oldest first
    struct Entry {
        boost::asio::ip::address client;
        std::function<void()> close{};
        State state = State::busy;
        Queue::iterator place{};  // in the queue of its state, unless busy
        bool evicted = false;
    };

    Queue* queue_of(State state);
    bool evict_one_of(const boost::asio::ip::address& address);
    void evict_entry(Entries::iterator entry);
    void forget_address(const boost::asio::ip::address& address);
    void release(Entries::iterator entry);
    void set_state(Entries::iterator entry, State state);

    Limits limits_;
    Entries entries_;
    Queue idle_;
    Queue reading_;
    std::size_t evicted_ = 0;
    std::map<boost::asio::ip::address, std::size_t> per_address_;
};

}  // namespace bootherd::web
