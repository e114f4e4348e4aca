#include "domain/admission.hpp"
#include "domain/error.hpp"
#include "http/auth.hpp"
#include "http/errors.hpp"
#include "http/event_json.hpp"
#include "http/json.hpp"
#include "http/routes.hpp"

#include <caf/send.hpp>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

namespace argus::http {

namespace {

using nlohmann::json;

/// Checks the body's size and reads it without a DOM (http/event_json.hpp).
caf::error read_events(const route_env& env, const httplib::Request& req,
                       events_body shape, event_reader& reader) {
  auto limit = env.settings.server.max_body_bytes;
  if (req.body.size() > limit)
    return make_error(ec::payload_too_large, "request body is larger than " +
                                                 std::to_string(limit) +
                                                 " bytes");
  return reader.parse(req.body, shape, env.settings.server.max_batch_events);
}

/// Replies 503 with Retry-After: the node could not accept (the journal
/// could not store the events, e.g. a full disk).
void reply_unavailable(httplib::Response& res, const caf::error& err) {
  res.set_header("Retry-After", "1");
  reply_error(res, err);
}

/// Refuses work while the actors are `incoming` events short of the bound
/// on accepted-but-unapplied events, so memory cannot grow without limit.
bool overloaded(route_env& env, size_t incoming, httplib::Response& res) {
  auto err = env.node.check_backlog(incoming);
  if (!err)
    return false;
  env.node.registry().backpressure_refused(metrics::front::v1, incoming);
  reply_unavailable(res, err);
  return true;
}

/// The error for an event of a manager the request's key may not send
/// for (counted and logged as a refusal).
caf::error forbidden_event(route_env& env, const httplib::Request& req,
                           const domain::event& e) {
  env.auth->forbidden(req, *current_principal().key);
  return make_error(ec::forbidden, "the API key may not send events for "
                                   "event manager '" +
                                       e.event_manager_id + "'");
}

/// Reads element `i` of `reader` into `out` (a default-constructed event,
/// where it stays) and admits it: the one admission path of this front's
/// single events and batches. On an error `out` must be dropped.
caf::error read_admitted(route_env& env, const httplib::Request& req,
                         const event_reader& reader, size_t i,
                         const domain::catalog& catalog, domain::time_point now,
                         domain::event& out) {
  if (auto err = reader.read_event(i, out))
    return err;
  if (auto err = domain::admit_in_place(out, catalog, reader.lookup(i), now))
    return err;
  if (!current_principal().may_ingest(out.event_manager_id))
    return forbidden_event(env, req, out);
  return {};
}

/// Refuses the request when a manager of `events` is over its rate limit
/// (429 with Retry-After; nothing is taken, so the sender retries whole).
bool rate_limited(route_env& env, const std::vector<domain::event>& events,
                  httplib::Response& res) {
  auto refusal = env.node.check_rate(events);
  if (!refusal)
    return false;
  set_retry_after(res, *refusal);
  reply_error(res, domain::to_error(*refusal));
  return true;
}

void post_event(route_env& env, const httplib::Request& req,
                httplib::Response& res) {
  auto& stats = env.node.stats();
  auto& registry = env.node.registry();
  stats.events_received.fetch_add(1, std::memory_order_relaxed);
  registry.event_received(metrics::front::v1);
  if (overloaded(env, 1, res))
    return;
  event_reader reader;
  std::vector<domain::event> one(1);
  auto err = read_events(env, req, events_body::one, reader);
  if (!err)
    err = read_admitted(env, req, reader, 0, *env.node.catalog_now(),
                        env.node.ctx->now(), one[0]);
  if (err) {
    stats.events_rejected.fetch_add(1, std::memory_order_relaxed);
    registry.event_rejected(metrics::front::v1);
    return reply_error(res, err);
  }
  auto manager = one[0].event_manager_id;
  auto dedup_key = one[0].dedup_key;
  // 202 only once the event is accepted (journaled, when durability is on).
  if (rate_limited(env, one, res))
    return;
  if (auto err = env.node.ingest(std::move(one)))
    return reply_unavailable(res, err);
  registry.event_accepted(metrics::front::v1, manager);
  reply_accepted(res, dedup_key);
}

/// Takes the valid events of an array and names the invalid ones by index.
/// A body that is not an array, or too long, takes nothing.
void post_batch(route_env& env, const httplib::Request& req,
                httplib::Response& res) {
  auto& stats = env.node.stats();
  // Refuse before parsing when the actors are already full: under
  // back-pressure, parsing batches only to refuse them starves the actors.
  if (overloaded(env, 1, res))
    return;
  event_reader reader;
  if (auto err = read_events(env, req, events_body::batch, reader))
    return reply_error(res, err);
  auto count = reader.size();
  stats.events_received.fetch_add(count, std::memory_order_relaxed);
  env.node.registry().event_received(metrics::front::v1, count);
  if (overloaded(env, count, res))
    return;
  auto catalog = env.node.catalog_now();
  auto now = env.node.ctx->now(); // the batch arrived at one time
  auto rejected = json::array();
  std::vector<domain::event> valid;
  valid.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    // Read and admitted where it stays: no move of the event per step.
    auto err =
        read_admitted(env, req, reader, i, *catalog, now, valid.emplace_back());
    if (!err)
      continue;
    valid.pop_back();
    auto mapped = http_error_of(code_of(err));
    rejected.push_back(
        {{"index", i},
         {"error", {{"code", mapped.code}, {"message", message_of(err)}}}});
  }
  // The valid events need their managers' tokens, all or none: a batch
  // over a limit is refused whole (the invalid ones are not counted).
  if (rate_limited(env, valid, res))
    return;
  // One journal append and one message per router for the whole batch; the
  // order within each group is kept.
  auto accepted = valid.size();
  std::map<std::string, uint64_t> by_manager;
  for (auto& e : valid)
    ++by_manager[e.event_manager_id];
  if (auto err = env.node.ingest(std::move(valid)))
    return reply_unavailable(res, err);
  stats.events_rejected.fetch_add(rejected.size(), std::memory_order_relaxed);
  auto& registry = env.node.registry();
  registry.event_rejected(metrics::front::v1, rejected.size());
  for (auto& [manager, n] : by_manager)
    registry.event_accepted(metrics::front::v1, manager, n);
  reply_data(res, 202, {{"accepted", accepted}, {"rejected", rejected}});
}

} // namespace

void add_event_routes(router& svr, route_env& env) {
  svr.Post("/v1/events",
           [&env](const httplib::Request& req, httplib::Response& res) {
             post_event(env, req, res);
           });
  svr.Post("/v1/events/batch",
           [&env](const httplib::Request& req, httplib::Response& res) {
             post_batch(env, req, res);
           });
}

} // namespace argus::http
