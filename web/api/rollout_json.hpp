#pragma once
// Rollouts as GET /api/v1/rollouts and /api/v1/rollouts/{id} answer them (and `bootherd rollout list|status
// --json` prints them).
#include <boost/json/object.hpp>
#include <cstdint>

#include "boots/boot_outcome.hpp"
#include "db/catalog.hpp"

namespace bootherd::web {

// What the list shows of each rollout; a rolled-back one also names its failed machines.
boost::json::object rollout_summary_json(db::Catalog::Session& session, const db::Rollout& rollout,
                                         std::int64_t now, const boots::Thresholds& limits);
// The summary with every stage (its machines, their latest boots, its tally) and the rollout's history.
boost::json::object rollout_json(db::Catalog::Session& session, const db::Rollout& rollout,
                                 const boots::Thresholds& limits);

}  // namespace bootherd::web
