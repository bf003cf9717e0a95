#pragma once
// Tells an outside system that a rollout halted or succeeded: an HTTP POST of a JSON document to the
// rollout's webhook URL, from a thread of its own so a slow or dead receiver never holds up the server.
// At most `max_queued` calls wait (later ones are dropped with a log line); each has a 10 s timeout and is
// not retried. Plain http:// only.
#include <cstddef>
#include <string>
#include <string_view>

#include "db/rollouts_repo.hpp"

namespace bootherd::rollouts {

// {"event":"rollout.halted","rollout":{...}} with the rollout's id, image, versions, state, stage and reason.
std::string webhook_body(const db::Rollout& rollout, std::string_view kind);

}  // namespace bootherd::rollouts
