#include "web/job_registry.hpp"

#include <chrono>

#include "common/log.hpp"

namespace bootherd::web {
namespace {

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

std::string_view to_string(JobStatus::State state) noexcept {
    switch (state) {
        case JobStatus::State::running:
            return "running";
        case JobStatus::State::done:
            return "done";
        case JobStatus::State::failed:
            return "failed";
    }
    return "unknown";
}

JobRegistry::~JobRegistry() {
    std::vector<std::jthread> threads;
    {
        std::lock_guard lock(mutex_);
        std::size_t running = 0;
        for (auto& [id, job] : jobs_) {
            if (job.status.state == JobStatus::State::running) ++running;
            threads.push_back(std::move(job.thread));
        }
        if (running > 0) log::info("web: waiting for ", running, " image job(s) to finish");
    }
    threads.clear();  // joins
}

std::int64_t JobRegistry::start(std::string description, Work work) {
    std::vector<std::jthread> finished;  // joined after the lock is released
    std::lock_guard lock(mutex_);
    finished = forget_old_jobs();
    const std::int64_t id = next_id_++;
    auto& job = jobs_[id];
    job.status = JobStatus{.id = id, .description = std::move(description), .started_at = now_ms()};
    job.thread = std::jthread([this, id, work = std::move(work)] {
        try {
            work([this, id](double fraction) {
                update(id, [fraction](JobStatus& status) { status.progress = fraction; });
            });
            update(id, [](JobStatus& status) {
                status.state = JobStatus::State::done;
                status.progress = 1;
                status.finished_at = now_ms();
            });
        } catch (const std::exception& e) {
            log::warn("web: job ", id, " failed: ", e.what());
            update(id, [&e](JobStatus& status) {
                status.state = JobStatus::State::failed;
                status.error = e.what();
                status.finished_at = now_ms();
            });
        }
    });
    return id;
}

std::vector<std::jthread> JobRegistry::forget_old_jobs() {
    std::size_t finished = 0;
    for (const auto& [id, job] : jobs_)
        if (job.status.state != JobStatus::State::running) ++finished;
    std::vector<std::jthread> threads;
    // Oldest first: ids grow with start time.
    for (auto it = jobs_.begin(); it != jobs_.end() && finished >= kKeptFinished;) {
        if (it->second.status.state == JobStatus::State::running) {
            ++it;
            continue;
        }
        threads.push_back(std::move(it->second.thread));
        it = jobs_.erase(it);
        --finished;
    }
    return threads;
}

std::optional<JobStatus> JobRegistry::find(std::int64_t id) const {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    return it->second.status;
}

std::vector<JobStatus> JobRegistry::list() const {
    std::lock_guard lock(mutex_);
    std::vector<JobStatus> jobs;
    jobs.reserve(jobs_.size());
    for (auto it = jobs_.rbegin(); it != jobs_.rend(); ++it)
        jobs.push_back(it->second.status);
    return jobs;
}

void JobRegistry::update(std::int64_t id, const std::function<void(JobStatus&)>& change) {
    std::lock_guard lock(mutex_);
    change(jobs_.at(id).status);
}

}  // namespace bootherd::web
