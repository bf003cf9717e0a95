#include "web/connection_table.hpp"

#include <utility>

namespace bootherd::web {

boost::asio::ip::address client_address(const boost::asio::ip::address& address) {
    if (address.is_v6() && address.to_v6().is_v4_mapped())
        return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6());
    return address;
}

ConnectionTable::Ticket::Ticket(Ticket&& other) noexcept
    : table_(std::exchange(other.table_, nullptr)), entry_(other.entry_) {}

ConnectionTable::Ticket& ConnectionTable::Ticket::operator=(Ticket&& other) noexcept {
    if (this != &other) {
        if (table_) table_->release(entry_);
        table_ = std::exchange(other.table_, nullptr);
        entry_ = other.entry_;
    }
    return *this;
}

ConnectionTable::Ticket::~Ticket() {
    if (table_) table_->release(entry_);
}

void ConnectionTable::Ticket::on_evict(std::function<void()> close) {
    if (table_) entry_->close = std::move(close);
}

void ConnectionTable::Ticket::set_idle(bool idle) {
    if (table_) table_->set_idle(entry_, idle);
}

std::optional<ConnectionTable::Ticket> ConnectionTable::admit(const boost::asio::ip::address& client) {
    const auto address = client_address(client);
    const auto found = per_address_.find(address);
    const std::size_t count = found == per_address_.end() ? 0 : found->second;
    if (count >= limits_.per_address && !evict_idle_of(address)) return std::nullopt;
    if (size() >= limits_.total && evict_idle(1) == 0) return std::nullopt;
    ++per_address_[address];
    entries_.push_front(Entry{.client = address});
    return Ticket(this, entries_.begin());
}

std::size_t ConnectionTable::evict_idle(std::size_t count) {
    std::size_t evicted = 0;
    while (evicted < count && !idle_.empty()) {
        evict(idle_.front());
        ++evicted;
    }
    return evicted;
}

bool ConnectionTable::evict_idle_of(const boost::asio::ip::address& address) {
    for (const auto entry : idle_) {
        if (entry->client != address) continue;
        evict(entry);
        return true;
    }
    return false;
}

void ConnectionTable::evict(Entries::iterator entry) {
    set_idle(entry, false);
    // The entry stays until its connection ends and drops the ticket, but no longer counts.
    entry->evicted = true;
    ++evicted_;
    forget_address(entry->client);
    if (auto close = std::exchange(entry->close, {})) close();
}

void ConnectionTable::forget_address(const boost::asio::ip::address& address) {
    if (auto found = per_address_.find(address); found != per_address_.end() && --found->second == 0)
        per_address_.erase(found);
}

void ConnectionTable::release(Entries::iterator entry) {
    set_idle(entry, false);
    if (entry->evicted)
        --evicted_;
    else
        forget_address(entry->client);
    entries_.erase(entry);
}

void ConnectionTable::set_idle(Entries::iterator entry, bool idle) {
    if (idle == entry->idle.has_value() || (idle && entry->evicted)) return;
    if (idle) {
        entry->idle = idle_.insert(idle_.end(), entry);
    } else {
        idle_.erase(*entry->idle);
        entry->idle.reset();
    }
}

}  // namespace bootherd::web
