#include <boost/json/serialize.hpp>

#include "db/clock.hpp"
#include "web/api/api_context.hpp"

namespace bootherd::web {

void audit(ApiContext& context, const Request& request, std::string_view action, std::string_view target,
           const boost::json::object& detail, std::optional<std::int64_t> node_id) {
    boost::json::object event_detail = detail;
    event_detail["actor"] = request.principal ? request.principal->username : std::string("anonymous");
    event_detail["target"] = target;
    const std::string detail_text = boost::json::serialize(detail);
    auto session = context.store.catalog().session();
    db::Transaction tx(session.database());
    const auto now = db::now_ms();
    session.audit().append(
        db::AuditEntry{.at = now,
                       .actor = request.principal ? request.principal->username : "anonymous",
                       .action = std::string(action),
                       .target = std::string(target),
                       .detail = detail_text});
    session.events().append(db::NewEvent{.kind = "audit." + std::string(action),
                                         .node_id = node_id,
                                         .detail = boost::json::serialize(event_detail),
                                         .at = now});
    tx.commit();
}

}  // namespace bootherd::web
