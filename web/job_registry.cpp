#include "web/job_registry.hpp"

#include "common/log.hpp"

namespace bootherd::web {

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
        threads.swap(threads_);
    }
    if (!threads.empty()) log::info("web: waiting for ", threads.size(), " image job(s) to finish");
    threads.clear();  // joins
}

std::int64_t JobRegistry::start(std::string description, Work work) {
    std::lock_guard lock(mutex_);
    const std::int64_t id = next_id_++;
    jobs_[id] = JobStatus{.id = id, .description = std::move(description)};
    threads_.emplace_back([this, id, work = std::move(work)] {
        try {
            work([this, id](double fraction) {
                update(id, [fraction](JobStatus& job) { job.progress = fraction; });
            });
            update(id, [](JobStatus& job) {
                job.state = JobStatus::State::done;
                job.progress = 1;
            });
        } catch (const std::exception& e) {
            log::warn("web: job ", id, " failed: ", e.what());
            update(id, [&e](JobStatus& job) {
                job.state = JobStatus::State::failed;
                job.error = e.what();
            });
        }
    });
    return id;
}

std::optional<JobStatus> JobRegistry::find(std::int64_t id) const {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end()) return std::nullopt;
    return it->second;
}

void JobRegistry::update(std::int64_t id, const std::function<void(JobStatus&)>& change) {
    std::lock_guard lock(mutex_);
    change(jobs_.at(id));
}

}  // namespace bootherd::web
