#include "storage/alert_row.hpp"
#include "storage/alert_sql.hpp"
#include "storage/journal.hpp"
#include "storage/postgres.hpp"
#include "storage/postgres_writes.hpp"
#include "storage/store.hpp"

#include "config/log.hpp"
#include "delivery/sql_outbox.hpp"
#include "domain/error.hpp"
#include "storage/postgres_outbox.hpp"
#include "storage/postgres_outbox_retention.hpp"

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <forward_list>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <thread>
#include <tuple>
#include <unordered_map>
#include <utility>

namespace argus::storage {

namespace {

using pg::done;
using pg::params;
using pg::result_ptr;
using pg::statement;

/// Every statement of the store, prepared per connection on first use.
struct statements {
  statement upsert{"argus_upsert_alert",
                   alert_sql::upsert(alert_sql::postgres)};
  // A replayed event's notification has the id of the first run's: stored
  // once.
  statement add_note{"argus_add_notification",
                     "INSERT INTO notifications"
                     " (id, event_manager_id, body, owner)"
                     " VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO NOTHING"};
  statement mark{"argus_mark_applied",
                 "UPDATE meta SET value = GREATEST(value, $1)"
                 " WHERE key = 'applied_through'"};
  // A clustered node's journal records leave in the transaction that stores
  // their effects: what is left in the journal is exactly what is not
  // reflected yet, whoever replays it. Forwarded ones stay as "done" for a
  // while: their ids tell a retry of them from a new event. Numbers travel
  // as text (parameters are sent in binary format).
  // The bounds keep each statement an index range scan whatever plan the
  // server cached while the table was small.
  statement complete{"argus_journal_complete",
                     "DELETE FROM journal WHERE node_id = $1"
                     " AND seq BETWEEN $3 AND $4 AND forward_id = 0"
                     " AND seq = ANY($2::text::bigint[])"};
  statement complete_forwarded{"argus_journal_complete_forwarded",
                               "UPDATE journal SET done = true"
                               " WHERE node_id = $1 AND seq BETWEEN $3 AND $4"
                               " AND forward_id <> 0"
                               " AND seq = ANY($2::text::bigint[])"};
  statement prune_done{"argus_journal_prune_done",
                       "DELETE FROM journal WHERE node_id = $1 AND done"
                       " AND received_at_ns < $2"};
  statement drop_resolved{"argus_drop_resolved",
                          alert_sql::drop_resolved(alert_sql::postgres)};
  statement applied_through{"argus_applied_through",
                            "SELECT value FROM meta"
                            " WHERE key = 'applied_through'"};
  statement applied_after{"argus_applied_after",
                          "SELECT " + alert_sql::column_list() +
                              " FROM alerts WHERE last_seq > $1"};
  using names = std::array<std::string, alert_sql::combinations>;
  /// The listing statements' names, by combination: declared before the
  /// statements, so made first, and kept as long as they are.
  names list_names = names_of("argus_list_");
  names count_names = names_of("argus_count_");
  std::array<statement, alert_sql::combinations> list =
      make_combinations(list_names, alert_sql::list);
  std::array<statement, alert_sql::combinations> count_of =
      make_combinations(count_names, alert_sql::count);
  statement by_key_all{"argus_by_key_all",
                       "SELECT " + alert_sql::column_list() +
                           " FROM alerts WHERE dedup_key = $1"
                           " ORDER BY event_manager_id"};
  statement by_key_one{"argus_by_key_one",
                       "SELECT " + alert_sql::column_list() +
                           " FROM alerts WHERE dedup_key = $1"
                           " AND event_manager_id = $2"};
  statement children{"argus_children",
                     "SELECT " + alert_sql::column_list() +
                         " FROM alerts WHERE event_manager_id = $1"
                         " AND parent_dedup_key = $2" +
                         std::string{alert_sql::newest_first}};
  // alerts_by_parent finds the children of each parent asked about.
  statement active_children{
      "argus_active_children",
      "SELECT parent_dedup_key, COUNT(*) FROM alerts"
      " WHERE event_manager_id = $1 AND parent_dedup_key = "
      "ANY($2::text::text[])"
      " AND status = $3 AND type = $4 GROUP BY parent_dedup_key"};
  statement active_all{"argus_active_all", alert_sql::active_of_manager(
                                               alert_sql::postgres, false)};
  statement active_some{"argus_active_some", alert_sql::active_of_manager(
                                                 alert_sql::postgres, true)};
  // Active alerts, then the inactive children of active parents (active
  // children are already in the first half).
  statement open_work{"argus_open_work",
                      "SELECT " + alert_sql::column_list() +
                          " FROM alerts WHERE status = $1"
                          " UNION ALL SELECT " +
                          alert_sql::column_list("c") +
                          " FROM alerts AS p JOIN alerts AS c"
                          " ON c.event_manager_id = p.event_manager_id"
                          " AND c.parent_dedup_key = p.dedup_key"
                          " WHERE p.status = $1 AND p.type = $2"
                          " AND c.type = $3 AND c.status <> $1"};
  statement count{"argus_count",
                  "SELECT status, COUNT(*) FROM alerts GROUP BY status"};
  statement put_rule{
      "argus_put_rule",
      "INSERT INTO grouping_rules (id, name, grouping_key,"
      " time_window_seconds, created_at_ms, updated_at_ms, grouping_keys,"
      " auto_resolve_after_seconds)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (id) DO UPDATE SET"
      " auto_resolve_after_seconds = EXCLUDED.auto_resolve_after_seconds,"
      " name = EXCLUDED.name, grouping_key = EXCLUDED.grouping_key,"
      " grouping_keys = EXCLUDED.grouping_keys,"
      " time_window_seconds = EXCLUDED.time_window_seconds,"
      " created_at_ms = EXCLUDED.created_at_ms,"
      " updated_at_ms = EXCLUDED.updated_at_ms"};
  statement put_manager{
      "argus_put_manager",
      "INSERT INTO event_managers (id, name, description, grouping_rule_id,"
      " webhook_url, created_at_ms, updated_at_ms, receivers, am_severity,"
      " routing_key, ack_timeout_seconds, auto_resolve_after_seconds,"
      " rate_limit, inhibit_rules)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)"
      " ON CONFLICT (id) DO UPDATE SET"
      " inhibit_rules = EXCLUDED.inhibit_rules,"
      " auto_resolve_after_seconds = EXCLUDED.auto_resolve_after_seconds,"
      " rate_limit = EXCLUDED.rate_limit,"
      " am_severity = EXCLUDED.am_severity,"
      " name = EXCLUDED.name, description = EXCLUDED.description,"
      " grouping_rule_id = EXCLUDED.grouping_rule_id,"
      " webhook_url = EXCLUDED.webhook_url,"
      " receivers = EXCLUDED.receivers,"
      " created_at_ms = EXCLUDED.created_at_ms,"
      " updated_at_ms = EXCLUDED.updated_at_ms,"
      " routing_key = EXCLUDED.routing_key,"
      " ack_timeout_seconds = EXCLUDED.ack_timeout_seconds"};
  statement erase_rule{"argus_erase_rule",
                       "DELETE FROM grouping_rules WHERE id = $1"};
  statement erase_manager{"argus_erase_manager",
                          "DELETE FROM event_managers WHERE id = $1"};
  statement load_rules{"argus_load_rules",
                       "SELECT id, name, grouping_key, time_window_seconds,"
                       " created_at_ms, updated_at_ms, grouping_keys,"
                       " auto_resolve_after_seconds FROM grouping_rules"};
  statement load_managers{"argus_load_managers",
                          "SELECT id, name, description, grouping_rule_id,"
                          " webhook_url, created_at_ms, updated_at_ms,"
                          " receivers, am_severity, routing_key,"
                          " ack_timeout_seconds, auto_resolve_after_seconds,"
                          " rate_limit, inhibit_rules FROM event_managers"};
  statement put_silence{
      "argus_put_silence",
      "INSERT INTO silences (id, event_manager_id, matchers, starts_at_ms,"
      " ends_at_ms, created_by, comment, updated_at_ms, schedule)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE"
      " SET event_manager_id = EXCLUDED.event_manager_id,"
      " schedule = EXCLUDED.schedule,"
      " matchers = EXCLUDED.matchers, starts_at_ms = EXCLUDED.starts_at_ms,"
      " ends_at_ms = EXCLUDED.ends_at_ms, created_by = EXCLUDED.created_by,"
      " comment = EXCLUDED.comment, updated_at_ms = EXCLUDED.updated_at_ms"};
  statement load_silences{"argus_load_silences",
                          "SELECT id, event_manager_id, matchers,"
                          " starts_at_ms, ends_at_ms, created_by, comment,"
                          " updated_at_ms, schedule FROM silences"};
  statement put_key{
      "argus_put_api_key",
      "INSERT INTO api_keys (id, prefix, hash, role, managers, created_at_ms,"
      " expires_at_ms, revoked_at_ms, created_by)"
      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO UPDATE"
      " SET prefix = EXCLUDED.prefix, hash = EXCLUDED.hash,"
      " role = EXCLUDED.role, managers = EXCLUDED.managers,"
      " created_at_ms = EXCLUDED.created_at_ms,"
      " expires_at_ms = EXCLUDED.expires_at_ms,"
      " revoked_at_ms = EXCLUDED.revoked_at_ms,"
      " created_by = EXCLUDED.created_by"};
  statement load_keys{"argus_load_api_keys",
                      "SELECT id, prefix, hash, role, managers, created_at_ms,"
                      " expires_at_ms, revoked_at_ms, created_by"
                      " FROM api_keys"};
  statement append_audit{"argus_append_audit",
                         "INSERT INTO audit_log (id, at_ms, actor, action,"
                         " kind, object_id, event_manager_id)"
                         " VALUES ($1, $2, $3, $4, $5, $6, $7)"};
  statement read_audit{"argus_read_audit",
                       "SELECT id, at_ms, actor, action, kind, object_id,"
                       " event_manager_id FROM audit_log WHERE at_ms >= $1"
                       " ORDER BY at_ms DESC, seq DESC LIMIT $2"};

  /// `prefix` and each combination's index.
  static names names_of(const std::string& prefix) {
    names result;
    for (size_t i = 0; i < result.size(); ++i)
      result[i] = prefix + std::to_string(i);
    return result;
  }

  /// The statements of a listing's filter combinations, by
  /// `alert_sql::combination_of`'s index, named by `named` (which must
  /// outlive them).
  static std::array<statement, alert_sql::combinations>
  make_combinations(const names& named,
                    std::string (*make)(const alert_sql::dialect&, size_t)) {
    auto texts = alert_sql::every_combination(alert_sql::postgres, make);
    std::array<statement, alert_sql::combinations> result;
    for (size_t i = 0; i < result.size(); ++i)
      result[i] = statement{named[i].c_str(), std::move(texts[i])};
    return result;
  }
};

const statements& sql() {
  static const statements instance;
  return instance;
}

/// Row `i` of a result, as `read_alert_row_into` reads it.
struct postgres_row {
  const PGresult* res;
  int i;
  /// The few texts stored escaped (with NUL or 0x01 bytes), unescaped;
  /// a list, so that each view stays valid while the row is read.
  mutable std::forward_list<std::string> unescaped{};

  std::string_view text(int col) const {
    std::string_view stored{PQgetvalue(res, i, col),
                            static_cast<size_t>(PQgetlength(res, i, col))};
    if (stored.find('\1') == std::string_view::npos)
      return stored;
    unescaped.push_front(pg::unescape_text(stored));
    return unescaped.front();
  }
  int64_t integer(int col) const { return pg::integer_at(res, i, col); }
  bool boolean(int col) const { return pg::boolean_at(res, i, col); }
  bool is_null(int col) const { return PQgetisnull(res, i, col) != 0; }
};

/// Binds milliseconds, or NULL for `no_time`.
void optional_time(params& p, domain::time_point t) {
  if (t == domain::no_time)
    p.null();
  else
    p.integer(domain::to_millis(t));
}

/// Every column of `a` in `alert_sql::columns` order, with `event_count` as
/// given (the upsert adds it to a stored row's count).
params alert_params(const domain::alert& a, int64_t event_count) {
  params p;
  p.text(a.id.str())
      .text(a.dedup_key)
      .text(a.event_manager_id)
      .text(a.summary)
      .text(domain::to_string(a.sev))
      .text(a.class_name)
      .text(domain::to_string(a.type))
      .text(domain::to_string(a.status))
      .boolean(a.has_grouping_value)
      .text(a.grouping_value)
      .text(a.parent_dedup_key)
      .integer(a.child_count)
      .boolean(a.resolve_requested)
      .integer(event_count)
      .integer(domain::to_millis(a.created_at))
      .integer(domain::to_millis(a.updated_at));
  if (a.resolved_at == domain::no_time)
    p.null();
  else
    p.integer(domain::to_millis(a.resolved_at));
  p.integer(domain::to_millis(a.window_ends_at))
      .text(a.details)
      .integer(static_cast<int64_t>(a.last_seq))
      .integer(domain::to_millis(a.expires_at))
      .boolean(a.acknowledged);
  optional_time(p, a.acknowledged_at);
  p.text(a.acknowledged_by);
  optional_time(p, a.acknowledged_until);
  p.text(domain::to_string(a.resolved_by))
      .integer(domain::to_millis(a.auto_resolve_at));
  return p;
}

/// Reads each row of `raw` into one scratch alert that `on_row` may copy
/// or move from (it is read over for the next).
template <class OnRow>
caf::error each_row(const PGresult* raw, OnRow&& on_row) {
  domain::alert scratch;
  alert_texts texts;
  for (int i = 0, rows = PQntuples(raw); i < rows; ++i) {
    if (auto err = read_alert_row_into(postgres_row{raw, i}, texts, "postgres",
                                       scratch))
      return err;
    on_row(scratch);
  }
  return {};
}

caf::expected<std::vector<domain::alert>>
alerts_of(caf::expected<result_ptr> res) {
  if (!res)
    return std::move(res.error());
  std::vector<domain::alert> result;
  result.reserve(static_cast<size_t>(PQntuples(res->get())));
  if (auto err = each_row(res->get(), [&](domain::alert& a) {
        result.push_back(std::move(a));
      }))
    return err;
  return result;
}

/// The rows `keep` accepts: only a kept one is copied.
caf::expected<std::vector<domain::alert>>
alerts_where(caf::expected<result_ptr> res,
             const std::function<bool(const domain::alert&)>& keep) {
  if (!res)
    return std::move(res.error());
  std::vector<domain::alert> kept;
  if (auto err = each_row(res->get(), [&](domain::alert& a) {
        if (keep(a))
          kept.push_back(a);
      }))
    return err;
  return kept;
}

/// The listing's parameters for `filter`: its filters, limit and offset.
params list_params(const domain::alert_filter& filter) {
  params p;
  alert_sql::bind_filters(filter, [&](auto& text) { p.text(text); });
  // As in SQLite: a negative limit means none, a negative offset is 0.
  if (filter.limit < 0)
    p.null();
  else
    p.integer(filter.limit);
  p.integer(filter.offset < 0 ? 0 : filter.offset);
  return p;
}

/// How long applied forwarded records stay (far beyond a sender's retries)
/// and how often (in flushes) the older ones are pruned.
constexpr auto keep_done = std::chrono::seconds{60};
constexpr uint64_t prune_every = 50;

class postgres_store final : public store {
public:
  postgres_store(std::unique_ptr<pg::connection> conn, std::string dsn)
      : conn_(std::move(conn)), dsn_(std::move(dsn)) {}

  std::string backend() const override { return "postgres"; }

  using store::write;
  using store::write_completing;

  caf::error write(const std::vector<domain::alert_write>& writes,
                   const notifications& notes,
                   uint64_t applied_through) override {
    auto tail = note_steps(notes, "");
    if (applied_through > 0) {
      params p;
      p.integer(static_cast<int64_t>(applied_through));
      tail.push_back({&sql().mark, std::move(p)});
    }
    return commit(writes, std::move(tail), single_node_journal_id);
  }

  caf::error write_completing(const std::vector<domain::alert_write>& writes,
                              const notifications& notes,
                              const std::string& journal_id,
                              const std::vector<uint64_t>& completed) override {
    // A clustered node delivers what its groups caused (the owner column);
    // the node that fences it once it is gone takes these over.
    auto tail = note_steps(notes, journal_id);
    if (!completed.empty()) {
      auto list = pg::bigint_array(completed);
      auto [low, high] =
          std::minmax_element(completed.begin(), completed.end());
      params p;
      p.text(journal_id)
          .text(list)
          .integer(static_cast<int64_t>(*low))
          .integer(static_cast<int64_t>(*high));
      tail.push_back({&sql().complete, p});
      tail.push_back({&sql().complete_forwarded, std::move(p)});
    }
    if (++completions_ % prune_every == 0) {
      auto cutoff = std::chrono::system_clock::now() - keep_done;
      params p;
      p.text(journal_id)
          .integer(std::chrono::duration_cast<std::chrono::nanoseconds>(
                       cutoff.time_since_epoch())
                       .count());
      tail.push_back({&sql().prune_done, std::move(p)});
    }
    return commit(writes, std::move(tail), journal_id);
  }

  caf::expected<std::shared_ptr<delivery::outbox>>
  open_outbox(const std::string& owner) override {
    auto opened = open_postgres_outbox(dsn_, owner);
    if (!opened)
      return std::move(opened.error());
    return std::shared_ptr<delivery::outbox>{std::move(*opened)};
  }

  /// Makes this store's sessions hold `writer`'s lock, once.
  caf::error hold_writer_lock(const std::string& writer) {
    if (writers_held_.count(writer) > 0)
      return {};
    if (auto err = pg::hold_writer_lock(*conn_, writer))
      return err;
    writers_held_.insert(writer);
    return {};
  }

private:
  /// The inserts of `notes` into the outbox, owned by `owner`.
  static std::vector<pg::step> note_steps(const notifications& notes,
                                          const std::string& owner) {
    std::vector<pg::step> steps;
    steps.reserve(notes.size());
    for (auto& n : notes) {
      params p;
      p.text(n.id)
          .text(n.parent->event_manager_id)
          .text(delivery::to_stored(delivery::envelope_of(n)))
          .text(owner);
      steps.push_back({&sql().add_note, std::move(p)});
    }
    return steps;
  }

  /// Stores `writes` and runs `tail` (journal bookkeeping) in one
  /// transaction, as `writer` (the journal id).
  caf::error commit(const std::vector<domain::alert_write>& writes,
                    std::vector<pg::step> tail, const std::string& writer) {
    if (writes.empty() && tail.empty())
      return {};
    size_t skip = 0;
    if (in_doubt_) {
      auto skipped = settle_in_doubt(writes);
      if (!skipped)
        return std::move(skipped.error());
      skip = *skipped;
    }
    std::vector<pg::step> steps;
    steps.reserve(writes.size() - skip + tail.size());
    for (auto i = skip; i < writes.size(); ++i)
      steps.push_back(
          {&sql().upsert,
           alert_params(*writes[i].snapshot, writes[i].event_count_delta)});
    for (auto& step : tail)
      steps.push_back(std::move(step));
    if (steps.empty())
      return {};
    if (auto err = hold_writer_lock(writer))
      return err;
    // BEGIN alone first: if the connection went away while idle, it is
    // retried on a fresh one, and nothing has been sent yet. The
    // transaction id tells, should the reply to COMMIT get lost, whether it
    // committed.
    auto begun =
        conn_->exec("BEGIN; SELECT pg_current_xact_id()", "begin transaction");
    if (!begun)
      return std::move(begun.error());
    auto xid = pg::text_at(begun->get(), 0, 0);
    auto err = conn_->pipeline(steps, "store alerts");
    if (err) {
      conn_->rollback();
      return err;
    }
    err = done(conn_->exec("COMMIT", "commit"));
    if (!err)
      return {};
    if (conn_->get() != nullptr) {
      // The server answered: it did not commit.
      conn_->rollback();
      return err;
    }
    // The connection died with COMMIT on its way: ask a new one.
    auto status = xact_status(xid);
    if (status && *status == "committed") {
      LOG_INFO("postgres: the connection died after COMMIT was sent; "
               "transaction "
               << xid << " committed");
      return {};
    }
    if (!status || *status != "aborted") {
      // Unknown until the server is back. The caller retries with these
      // changes first, which must then not be applied twice.
      in_doubt_ =
          in_doubt{xid, std::vector<domain::alert_write>(
                            writes.begin() + static_cast<std::ptrdiff_t>(skip),
                            writes.end())};
      LOG_WARNING("postgres: the commit of " << in_doubt_->writes.size()
                                             << " alert changes is in doubt"
                                                " (transaction "
                                             << xid << ")");
    }
    return err;
  }

public:
  caf::expected<uint64_t> applied_through() override {
    auto res = conn_->run(sql().applied_through, params{},
                          "read the applied journal position");
    if (!res)
      return std::move(res.error());
    if (PQntuples(res->get()) != 1)
      return make_error(ec::internal,
                        "postgres: the meta row 'applied_through' is missing");
    return static_cast<uint64_t>(pg::integer_at(res->get(), 0, 0));
  }

  caf::expected<std::vector<domain::alert>>
  applied_after(uint64_t seq) override {
    params p;
    p.integer(static_cast<int64_t>(seq));
    return alerts_of(
        conn_->run(sql().applied_after, p,
                   "read alerts applied after a journal position"));
  }

  caf::expected<std::vector<domain::alert>>
  list(const domain::alert_filter& filter) override {
    auto combination = alert_sql::combination_of(filter);
    return alerts_of(conn_->run(sql().list[combination], list_params(filter),
                                "list alerts"));
  }

  caf::error
  each_listed(const domain::alert_filter& filter,
              const std::function<void(domain::alert&)>& on_alert) override {
    auto res = conn_->run(sql().list[alert_sql::combination_of(filter)],
                          list_params(filter), "list alerts");
    if (!res)
      return std::move(res.error());
    return each_row(res->get(), on_alert);
  }

  caf::expected<int64_t>
  count_matching(const domain::alert_filter& filter) override {
    auto combination = alert_sql::combination_of(filter);
    params p;
    alert_sql::bind_filters(filter, [&](auto& text) { p.text(text); });
    auto res = conn_->run(sql().count_of[combination], p, "count alerts");
    if (!res)
      return std::move(res.error());
    return pg::integer_at(res->get(), 0, 0);
  }

  caf::expected<std::vector<domain::alert>>
  active_where(const std::string& manager_id,
               const domain::column_filter& where,
               const std::function<bool(const domain::alert&)>& keep) override {
    params p;
    p.text(manager_id);
    if (auto values = alert_sql::filter_values(where)) {
      for (auto& v : *values)
        p.text(v);
      return alerts_where(
          conn_->run(sql().active_some, p, "list active alerts"), keep);
    }
    // The query could not compare the filter's columns: here, then.
    return alerts_where(
        conn_->run(sql().active_all, p, "list active alerts"),
        [&](const domain::alert& a) { return where.admits(a) && keep(a); });
  }

  caf::expected<std::vector<domain::alert>>
  by_dedup_key(const std::string& manager_id,
               const std::string& dedup_key) override {
    params p;
    p.text(dedup_key);
    if (manager_id.empty())
      return alerts_of(conn_->run(sql().by_key_all, p, "look up dedupKey"));
    p.text(manager_id);
    return alerts_of(conn_->run(sql().by_key_one, p, "look up dedupKey"));
  }

  caf::expected<std::vector<domain::alert>>
  children(const std::string& manager_id,
           const std::string& parent_dedup_key) override {
    params p;
    p.text(manager_id).text(parent_dedup_key);
    return alerts_of(conn_->run(sql().children, p, "list children"));
  }

  caf::expected<std::vector<int64_t>> active_children_counts(
      const std::string& manager_id,
      const std::vector<std::string>& parent_dedup_keys) override {
    // One query for the whole page, not a round trip per parent.
    std::vector<int64_t> counts(parent_dedup_keys.size(), 0);
    if (parent_dedup_keys.empty())
      return counts;
    params p;
    p.text(manager_id)
        .text(pg::text_array(parent_dedup_keys))
        .text(domain::to_string(domain::alert_status::active))
        .text(domain::to_string(domain::alert_type::child));
    auto res = conn_->run(sql().active_children, p, "count active children");
    if (!res)
      return std::move(res.error());
    std::unordered_map<std::string, int64_t> by_parent;
    for (int i = 0; i < PQntuples(res->get()); ++i)
      by_parent[pg::text_at(res->get(), i, 0)] =
          pg::integer_at(res->get(), i, 1);
    for (size_t i = 0; i < counts.size(); ++i)
      if (auto it = by_parent.find(parent_dedup_keys[i]); it != by_parent.end())
        counts[i] = it->second;
    return counts;
  }

  caf::expected<std::vector<domain::alert>> open_work() override {
    params p;
    p.text(domain::to_string(domain::alert_status::active))
        .text(domain::to_string(domain::alert_type::parent))
        .text(domain::to_string(domain::alert_type::child));
    return alerts_of(conn_->run(sql().open_work, p, "load open work"));
  }

  caf::expected<std::pair<int64_t, int64_t>> count_by_status() override {
    auto res = conn_->run(sql().count, params{}, "count alerts");
    if (!res)
      return std::move(res.error());
    std::pair<int64_t, int64_t> counts{0, 0};
    auto active = domain::to_string(domain::alert_status::active);
    auto resolved = domain::to_string(domain::alert_status::resolved);
    for (int i = 0; i < PQntuples(res->get()); ++i) {
      auto status = pg::text_at(res->get(), i, 0);
      if (status == active)
        counts.first = pg::integer_at(res->get(), i, 1);
      else if (status == resolved)
        counts.second = pg::integer_at(res->get(), i, 1);
    }
    return counts;
  }

  caf::expected<dropped> drop_resolved(domain::time_point cutoff,
                                       size_t at_most) override {
    params p;
    p.integer(domain::to_millis(cutoff)).integer(static_cast<int64_t>(at_most));
    // Every node of a cluster runs it: a row another one deleted first is
    // simply not there any more.
    auto res = conn_->run(sql().drop_resolved, p, "drop resolved alerts");
    if (!res)
      return std::move(res.error());
    dropped result;
    result.alerts = std::strtoull(PQcmdTuples(res->get()), nullptr, 10);
    result.more = result.alerts >= at_most;
    return result;
  }

  caf::expected<dropped_notifications>
  drop_notifications(domain::time_point cutoff, uint64_t after,
                     size_t at_most) override {
    return pg::drop_notifications(*conn_, cutoff, after, at_most);
  }

  caf::error put(const domain::grouping_rule& rule) override {
    params p;
    p.text(rule.id)
        .text(rule.name)
        .text(rule.grouping_key)
        .integer(rule.time_window_seconds)
        .integer(domain::to_millis(rule.created_at))
        .integer(domain::to_millis(rule.updated_at))
        .text(domain::encode_keys(rule.grouping_keys))
        .integer(rule.auto_resolve_after_seconds);
    return done(conn_->run(sql().put_rule, p, "store rule"));
  }

  caf::error put(const domain::event_manager& manager) override {
    params p;
    p.text(manager.id)
        .text(manager.name)
        .text(manager.description)
        .text(manager.grouping_rule_id)
        .text(manager.webhook_url)
        .integer(domain::to_millis(manager.created_at))
        .integer(domain::to_millis(manager.updated_at))
        .text(delivery::to_stored(manager.receivers))
        .text(domain::encode(manager.am_severity))
        .text(manager.routing_key)
        .integer(manager.ack_timeout_seconds)
        .integer(manager.auto_resolve_after_seconds)
        .text(domain::stored_rate_limit(manager))
        .text(domain::encode_inhibit_rules(manager.inhibit_rules));
    return done(conn_->run(sql().put_manager, p, "store event manager"));
  }

  caf::error put(const domain::silence& silence) override {
    params p;
    p.text(silence.id)
        .text(silence.event_manager_id)
        .text(domain::encode_matchers(silence.matchers))
        .integer(domain::to_millis(silence.starts_at))
        .integer(domain::to_millis(silence.ends_at))
        .text(silence.created_by)
        .text(silence.comment)
        .integer(domain::to_millis(silence.updated_at))
        .text(domain::encode_schedule(silence.recurrence));
    return done(conn_->run(sql().put_silence, p, "store silence"));
  }

  caf::error put(const domain::api_key& key) override {
    params p;
    p.text(key.id)
        .text(key.prefix)
        .text(key.hash)
        .text(domain::to_string(key.key_role))
        .text(domain::encode_keys(key.managers))
        .integer(domain::to_millis(key.created_at))
        .integer(domain::to_millis(key.expires_at))
        .integer(domain::to_millis(key.revoked_at))
        .text(key.created_by);
    return done(conn_->run(sql().put_key, p, "store API key"));
  }

  caf::error append(const domain::audit_entry& e) override {
    params p;
    p.text(e.id)
        .integer(domain::to_millis(e.at))
        .text(e.actor)
        .text(e.action)
        .text(e.kind)
        .text(e.object_id)
        .text(e.event_manager_id);
    return done(conn_->run(sql().append_audit, p, "append to the audit log"));
  }

  caf::expected<std::vector<domain::audit_entry>>
  audit(const domain::audit_filter& filter) override {
    params p;
    p.integer(domain::to_millis(filter.since)).integer(filter.limit);
    auto rows = conn_->run(sql().read_audit, p, "read the audit log");
    if (!rows)
      return std::move(rows.error());
    auto res = rows->get();
    std::vector<domain::audit_entry> out;
    for (int i = 0; i < PQntuples(res); ++i) {
      domain::audit_entry e;
      e.id = pg::text_at(res, i, 0);
      e.at = domain::from_millis(pg::integer_at(res, i, 1));
      e.actor = pg::text_at(res, i, 2);
      e.action = pg::text_at(res, i, 3);
      e.kind = pg::text_at(res, i, 4);
      e.object_id = pg::text_at(res, i, 5);
      e.event_manager_id = pg::text_at(res, i, 6);
      out.push_back(std::move(e));
    }
    return out;
  }

  caf::error erase_rule(const std::string& id) override {
    params p;
    p.text(id);
    return done(conn_->run(sql().erase_rule, p, "erase rule"));
  }

  caf::error erase_manager(const std::string& id) override {
    params p;
    p.text(id);
    return done(conn_->run(sql().erase_manager, p, "erase event manager"));
  }

  caf::expected<domain::catalog> load_catalog() override {
    domain::catalog result;
    auto rules = conn_->run(sql().load_rules, params{}, "load rules");
    if (!rules)
      return std::move(rules.error());
    for (int i = 0; i < PQntuples(rules->get()); ++i) {
      auto res = rules->get();
      domain::grouping_rule r;
      r.id = pg::text_at(res, i, 0);
      r.name = pg::text_at(res, i, 1);
      r.grouping_key = pg::text_at(res, i, 2);
      r.time_window_seconds = pg::integer_at(res, i, 3);
      r.created_at = domain::from_millis(pg::integer_at(res, i, 4));
      r.updated_at = domain::from_millis(pg::integer_at(res, i, 5));
      r.grouping_keys = domain::decode_keys(pg::text_at(res, i, 6));
      r.auto_resolve_after_seconds = pg::integer_at(res, i, 7);
      auto id = r.id;
      result.rules.emplace(std::move(id), std::move(r));
    }
    auto managers =
        conn_->run(sql().load_managers, params{}, "load event managers");
    if (!managers)
      return std::move(managers.error());
    for (int i = 0; i < PQntuples(managers->get()); ++i) {
      auto res = managers->get();
      domain::event_manager m;
      m.id = pg::text_at(res, i, 0);
      m.name = pg::text_at(res, i, 1);
      m.description = pg::text_at(res, i, 2);
      m.grouping_rule_id = pg::text_at(res, i, 3);
      m.webhook_url = pg::text_at(res, i, 4);
      m.created_at = domain::from_millis(pg::integer_at(res, i, 5));
      m.updated_at = domain::from_millis(pg::integer_at(res, i, 6));
      auto receivers = delivery::receivers_from_stored(pg::text_at(res, i, 7));
      if (!receivers)
        return std::move(receivers.error());
      m.receivers = std::move(*receivers);
      auto mapping = domain::decode_severity_mapping(pg::text_at(res, i, 8));
      if (!mapping)
        return make_error(ec::internal, "event manager '" + m.id +
                                            "' has an unreadable am_severity");
      m.am_severity = std::move(*mapping);
      m.routing_key = pg::text_at(res, i, 9);
      m.ack_timeout_seconds = pg::integer_at(res, i, 10);
      m.auto_resolve_after_seconds = pg::integer_at(res, i, 11);
      if (auto err = domain::restore_rate_limit(m, pg::text_at(res, i, 12)))
        return err;
      auto rules = domain::decode_inhibit_rules(pg::text_at(res, i, 13));
      if (!rules)
        return make_error(ec::internal, "event manager '" + m.id +
                                            "' has unreadable inhibit_rules");
      m.inhibit_rules = std::move(*rules);

      auto id = m.id;
      result.managers.emplace(std::move(id), std::move(m));
    }
    if (auto err = load_silences(result))
      return err;
    if (auto err = load_keys(result))
      return err;
    return result;
  }

private:
  caf::error load_keys(domain::catalog& out) {
    auto rows = conn_->run(sql().load_keys, params{}, "load API keys");
    if (!rows)
      return std::move(rows.error());
    auto res = rows->get();
    for (int i = 0; i < PQntuples(res); ++i) {
      domain::api_key k;
      k.id = pg::text_at(res, i, 0);
      k.prefix = pg::text_at(res, i, 1);
      k.hash = pg::text_at(res, i, 2);
      auto role = domain::parse_role(pg::text_at(res, i, 3));
      if (!role)
        return make_error(ec::internal,
                          "API key '" + k.id + "' has an unknown role");
      k.key_role = *role;
      k.managers = domain::decode_keys(pg::text_at(res, i, 4));
      k.created_at = domain::from_millis(pg::integer_at(res, i, 5));
      k.expires_at = domain::from_millis(pg::integer_at(res, i, 6));
      k.revoked_at = domain::from_millis(pg::integer_at(res, i, 7));
      k.created_by = pg::text_at(res, i, 8);
      auto id = k.id;
      out.keys.emplace(std::move(id), std::move(k));
    }
    return {};
  }

  caf::error load_silences(domain::catalog& out) {
    auto rows = conn_->run(sql().load_silences, params{}, "load silences");
    if (!rows)
      return std::move(rows.error());
    auto res = rows->get();
    for (int i = 0; i < PQntuples(res); ++i) {
      domain::silence s;
      s.id = pg::text_at(res, i, 0);
      s.event_manager_id = pg::text_at(res, i, 1);
      auto matchers = domain::decode_matchers(pg::text_at(res, i, 2));
      if (!matchers)
        return make_error(ec::internal,
                          "silence '" + s.id + "' has unreadable matchers");
      s.matchers = std::move(*matchers);
      s.starts_at = domain::from_millis(pg::integer_at(res, i, 3));
      s.ends_at = domain::from_millis(pg::integer_at(res, i, 4));
      s.created_by = pg::text_at(res, i, 5);
      s.comment = pg::text_at(res, i, 6);
      s.updated_at = domain::from_millis(pg::integer_at(res, i, 7));
      auto schedule = domain::decode_schedule(pg::text_at(res, i, 8));
      if (!schedule)
        return make_error(ec::internal,
                          "silence '" + s.id + "' has an unreadable schedule");
      s.recurrence = std::move(*schedule);
      auto id = s.id;
      out.silences.emplace(std::move(id), std::move(s));
    }
    return {};
  }

  /// A batch whose COMMIT was sent but never answered.
  struct in_doubt {
    std::string xid;
    std::vector<domain::alert_write> writes;
  };

  /// The outcome of transaction `xid`, waiting about a second while it is
  /// "in progress" (the old session may still be finishing).
  caf::expected<std::string> xact_status(const std::string& xid) {
    return pg::transaction_outcome(*conn_, xid, 50);
  }

  /// Resolves the batch in doubt before `writes`: how many of the first
  /// writes are that batch and already committed.
  caf::expected<size_t>
  settle_in_doubt(const std::vector<domain::alert_write>& writes) {
    auto status = xact_status(in_doubt_->xid);
    if (!status)
      return std::move(status.error());
    // Its old session still runs it (a slow disk, say): written now, the
    // batch would count twice should that commit go through.
    if (*status == "in progress")
      return make_error(ec::unavailable,
                        "postgres: transaction " + in_doubt_->xid +
                            " of the batch in doubt is still in progress");
    size_t skip = 0;
    if (*status == "committed") {
      auto& done_writes = in_doubt_->writes;
      if (starts_with(writes, done_writes)) {
        skip = done_writes.size();
        LOG_INFO("postgres: the batch in doubt had committed; its "
                 << skip << " alert changes are not written again");
      } else {
        LOG_ERROR("postgres: the batch in doubt had committed, but the "
                  "changes now written do not start with it; event counts "
                  "may count some events twice");
      }
    }
    in_doubt_.reset();
    return skip;
  }

  static bool same(const domain::alert& x, const domain::alert& y) {
    auto fields = [](const domain::alert& a) {
      return std::tie(a.id, a.dedup_key, a.event_manager_id, a.summary, a.sev,
                      a.class_name, a.type, a.status, a.has_grouping_value,
                      a.grouping_value, a.parent_dedup_key, a.child_count,
                      a.resolve_requested, a.event_count, a.created_at,
                      a.updated_at, a.resolved_at, a.window_ends_at, a.details,
                      a.last_seq, a.expires_at, a.acknowledged,
                      a.acknowledged_at, a.acknowledged_by,
                      a.acknowledged_until, a.resolved_by, a.auto_resolve_at);
    };
    return fields(x) == fields(y);
  }

  static bool starts_with(const std::vector<domain::alert_write>& writes,
                          const std::vector<domain::alert_write>& prefix) {
    if (writes.size() < prefix.size())
      return false;
    for (size_t i = 0; i < prefix.size(); ++i)
      if (writes[i].event_count_delta != prefix[i].event_count_delta ||
          !same(*writes[i].snapshot, *prefix[i].snapshot))
        return false;
    return true;
  }

  std::unique_ptr<pg::connection> conn_;
  /// For the delivery worker's own connection.
  std::string dsn_;
  std::optional<in_doubt> in_doubt_;
  /// The writers whose lock this connection's sessions hold (see
  /// `postgres_writes.hpp`): the single node's from the start, a cluster
  /// node's incarnation from its first write.
  std::set<std::string> writers_held_;
  /// Flushes that completed journal records, to prune "done" ones now and
  /// then.
  uint64_t completions_ = 0;
};

} // namespace

caf::expected<std::unique_ptr<store>>
open_postgres_store(const std::string& dsn) {
  auto conn = pg::open(dsn);
  if (!conn)
    return std::move(conn.error());
  auto opened = std::make_unique<postgres_store>(std::move(*conn), dsn);
  // Catalog changes and the single node's writes: its sessions hold the
  // single node's lock from the start.
  if (auto err = opened->hold_writer_lock(single_node_journal_id))
    return err;
  return std::unique_ptr<store>{std::move(opened)};
}

} // namespace argus::storage
