#include "web/connection_table.hpp"

#include <utility>

#include "common/ip_address.hpp"

namespace bootherd::web {

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

void ConnectionTable::Ticket::set_state(State state) {
    if (table_) table_->set_state(entry_, state);
}

std::optional<ConnectionTable::Ticket> ConnectionTable::admit(const boost::asio::ip::address& client) {
    const auto address = unmapped(client);
    const auto found = per_address_.find(address);
    const std::size_t count = found == per_address_.end() ? 0 : found->second;
    if (count >= limits_.per_address && !evict_one_of(address)) return std::nullopt;
    if (size() >= limits_.total && evict(1) == 0) return std::nullopt;
    ++per_address_[address];
    entries_.push_front(Entry{.client = address});
    return Ticket(this, entries_.begin());
}

std::size_t ConnectionTable::evict(std::size_t count) {
    std::size_t evicted = 0;
    for (Queue* queue : {&idle_, &reading_}) {
        while (evicted < count && !queue->empty()) {
            evict_entry(queue->front());
            ++evicted;
        }
    }
    return evicted;
}

bool ConnectionTable::evict_one_of(const boost::asio::ip::address& address) {
    for (Queue* queue : {&idle_, &reading_}) {
        for (const auto entry : *queue) {
            if (entry->client != address) continue;
            evict_entry(entry);
            return true;
        }
    }
    return false;
}

void ConnectionTable::evict_entry(Entries::iterator entry) {
    set_state(entry, State::busy);
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
    set_state(entry, State::busy);
    if (entry->evicted)
        --evicted_;
    else
        forget_address(entry->client);
    entries_.erase(entry);
}

ConnectionTable::Queue* ConnectionTable::queue_of(State state) {
    switch (state) {
        case State::idle:
            return &idle_;
        case State::reading:
            return &reading_;
        case State::busy:
            break;
    }
    return nullptr;
}

void ConnectionTable::set_state(Entries::iterator entry, State state) {
    if (state == entry->state || (state != State::busy && entry->evicted)) return;
    if (Queue* from = queue_of(entry->state)) from->erase(entry->place);
    if (Queue* to = queue_of(state)) entry->place = to->insert(to->end(), entry);
    entry->state = state;
}

}  // namespace bootherd::web
