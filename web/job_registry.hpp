#pragma once
// Long-running image work started by the API (imports, uploads): each job runs on its own thread and reports
// progress; GET /api/v1/jobs and /api/v1/jobs/{id} read it. The registry keeps every running job and the
// newest kKeptFinished finished ones (older finished jobs are forgotten as new ones start). Jobs are not
// cancellable: the destructor waits for them.
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
    std::int64_t started_at = 0;                // UTC milliseconds
    std::optional<std::int64_t> finished_at{};  // set once it is done or failed
};

std::string_view to_string(JobStatus::State state) noexcept;

class JobRegistry {
  public:
    static constexpr std::size_t kKeptFinished = 100;

    using ReportProgress = std::function<void(double fraction)>;
    using Work = std::function<void(const ReportProgress&)>;

    JobRegistry() = default;
    ~JobRegistry();
    JobRegistry(const JobRegistry&) = delete;
    JobRegistry& operator=(const JobRegistry&) = delete;

    // Starts `work` on a new thread; an exception it throws fails the job with its message.
    std::int64_t start(std::string description, Work work);
    std::optional<JobStatus> find(std::int64_t id) const;
    // Every job kept, newest first.
    std::vector<JobStatus> list() const;

  private:
    struct Job {
        JobStatus status;
        std::jthread thread{};
    };
    void update(std::int64_t id, const std::function<void(JobStatus&)>& change);
    // Takes the oldest finished jobs past kKeptFinished out of jobs_ (their threads, for joining).
    std::vector<std::jthread> forget_old_jobs();

    mutable std::mutex mutex_;
    std::int64_t next_id_ = 1;
    std::map<std::int64_t, Job> jobs_;
};

}  // namespace bootherd::web
