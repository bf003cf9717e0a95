#pragma once
// Long-running image work started by the API (imports, uploads): each job runs on its own thread and reports
// progress; GET /api/v1/jobs/{id} reads it. Jobs are not cancellable: the destructor waits for them.
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace bootherd::web {

struct JobStatus {
    enum class State { running, done, failed };
    std::int64_t id = 0;
    std::string description{};
    State state = State::running;
    double progress = 0;  // 0..1
    std::string error{};
};

std::string_view to_string(JobStatus::State state) noexcept;

class JobRegistry {
  public:
    using ReportProgress = std::function<void(double fraction)>;
    using Work = std::function<void(const ReportProgress&)>;

    JobRegistry() = default;
    ~JobRegistry();
    JobRegistry(const JobRegistry&) = delete;
    JobRegistry& operator=(const JobRegistry&) = delete;

    // Starts `work` on a new thread; an exception it throws fails the job with its message.
    std::int64_t start(std::string description, Work work);
    std::optional<JobStatus> find(std::int64_t id) const;

  private:
    void update(std::int64_t id, const std::function<void(JobStatus&)>& change);

    mutable std::mutex mutex_;
    std::int64_t next_id_ = 1;
    std::map<std::int64_t, JobStatus> jobs_;
    std::vector<std::jthread> threads_;
};

}  // namespace bootherd::web
