// The job registry: progress, outcome and times of jobs, newest first, and the bound on finished jobs kept.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "web/job_registry.hpp"

using namespace bootherd::web;

namespace {

JobStatus wait_finished(const JobRegistry& jobs, std::int64_t id) {
    for (int i = 0; i < 5000; ++i) {
        const auto job = jobs.find(id);
        REQUIRE(job);
        if (job->state != JobStatus::State::running) return *job;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    FAIL("job " << id << " did not finish");
    return {};
}

}  // namespace

TEST_CASE("jobs: done and failed jobs with their times, listed newest first") {
    JobRegistry jobs;
    const auto ok = jobs.start("import a", [](const JobRegistry::ReportProgress& report) { report(0.5); });
    const auto bad = jobs.start(
        "import b", [](const JobRegistry::ReportProgress&) { throw std::runtime_error("no such file"); });
    const auto done = wait_finished(jobs, ok);
    CHECK(done.state == JobStatus::State::done);
    CHECK(done.progress == 1);
    CHECK(done.error.empty());
    CHECK(done.started_at > 0);
    REQUIRE(done.finished_at);
    CHECK(*done.finished_at >= done.started_at);
    const auto failed = wait_finished(jobs, bad);
    CHECK(failed.state == JobStatus::State::failed);
    CHECK(failed.error == "no such file");
    CHECK(failed.finished_at);

    const auto listed = jobs.list();
    REQUIRE(listed.size() == 2);
    CHECK(listed[0].id == bad);
    CHECK(listed[1].id == ok);
    CHECK(listed[1].description == "import a");
    CHECK_FALSE(jobs.find(bad + 1));
}

TEST_CASE("jobs: a running job has no finish time and is never forgotten; finished ones are bounded") {
    JobRegistry jobs;
    std::atomic<bool> release{false};
    const auto slow = jobs.start("upload", [&release](const JobRegistry::ReportProgress& report) {
        report(0.25);
        while (!release)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    });
    for (int i = 0; i < 50 && jobs.find(slow)->progress == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
    CHECK(jobs.find(slow)->state == JobStatus::State::running);
    CHECK_FALSE(jobs.find(slow)->finished_at);

    std::int64_t last = 0;
    for (std::size_t i = 0; i < JobRegistry::kKeptFinished + 20; ++i) {
        last = jobs.start("quick", [](const JobRegistry::ReportProgress&) {});
        wait_finished(jobs, last);
    }
    const auto listed = jobs.list();
    CHECK(listed.size() == JobRegistry::kKeptFinished + 1);  // the running one and the newest finished ones
    CHECK(listed.front().id == last);
    CHECK(listed.back().id == slow);
    CHECK(jobs.find(slow));
    CHECK_FALSE(jobs.find(slow + 1));  // the oldest finished ones are gone
    release = true;
    CHECK(wait_finished(jobs, slow).state == JobStatus::State::done);
}
