#include "delivery/outbox.hpp"

#include "domain/error.hpp"

#include <algorithm>

namespace argus::delivery {

namespace {

using json = nlohmann::json;

json alert_to_stored(const domain::alert& a) {
  return json{
      {"id", a.id},
      {"dedup_key", a.dedup_key},
      {"event_manager_id", a.event_manager_id},
      {"summary", a.summary},
      {"severity", domain::to_string(a.sev)},
      {"class", a.class_name},
      {"type", domain::to_string(a.type)},
      {"status", domain::to_string(a.status)},
      {"has_grouping_value", a.has_grouping_value},
      {"grouping_value", a.grouping_value},
      {"parent_dedup_key", a.parent_dedup_key},
      {"child_count", a.child_count},
      {"resolve_requested", a.resolve_requested},
      {"event_count", a.event_count},
      {"created_at_ms", domain::to_millis(a.created_at)},
      {"updated_at_ms", domain::to_millis(a.updated_at)},
      {"resolved_at_ms", domain::to_millis(a.resolved_at)},
      {"window_ends_at_ms", domain::to_millis(a.window_ends_at)},
      {"details", a.details},
      {"last_seq", a.last_seq},
      {"resolved_by", domain::to_string(a.resolved_by)},
  };
}

domain::alert alert_from_stored(const json& j) {
  domain::alert a;
  a.id = j.at("id").get<std::string>();
  a.dedup_key = j.at("dedup_key").get<std::string>();
  a.event_manager_id = j.at("event_manager_id").get<std::string>();
  a.summary = j.at("summary").get<std::string>();
  a.sev = domain::parse_severity(j.at("severity").get<std::string>())
              .value_or(domain::severity::low);
  a.class_name = j.at("class").get<std::string>();
  a.type = domain::parse_alert_type(j.at("type").get<std::string>())
               .value_or(domain::alert_type::parent);
  a.status = domain::parse_alert_status(j.at("status").get<std::string>())
                 .value_or(domain::alert_status::active);
  a.has_grouping_value = j.at("has_grouping_value").get<bool>();
  a.grouping_value = j.at("grouping_value").get<std::string>();
  a.parent_dedup_key = j.at("parent_dedup_key").get<std::string>();
  a.child_count = j.at("child_count").get<int64_t>();
  a.resolve_requested = j.at("resolve_requested").get<bool>();
  a.event_count = j.at("event_count").get<int64_t>();
  a.created_at = domain::from_millis(j.at("created_at_ms").get<int64_t>());
  a.updated_at = domain::from_millis(j.at("updated_at_ms").get<int64_t>());
  a.resolved_at = domain::from_millis(j.at("resolved_at_ms").get<int64_t>());
  a.window_ends_at =
      domain::from_millis(j.at("window_ends_at_ms").get<int64_t>());
  a.details = j.at("details").get<std::string>();
  a.last_seq = j.at("last_seq").get<uint64_t>();
  // Absent from notifications stored before it was recorded.
  a.resolved_by = domain::parse_resolution(j.value("resolved_by", ""))
                      .value_or(domain::resolution::none);
  return a;
}

bool newer_first(const domain::delivery& a, const domain::delivery& b) {
  return a.seq != b.seq ? a.seq > b.seq : a.receiver < b.receiver;
}

} // namespace

outbox::~outbox() = default;

caf::expected<std::vector<listed_notification>>
outbox::recent(const delivery_filter& f) {
  std::vector<outbox_entry> entries;
  if (f.state.empty() && f.receiver.empty()) {
    auto found = latest(static_cast<size_t>(f.limit));
    if (!found)
      return found.error();
    entries = std::move(*found);
  } else {
    // Deliveries come newest first; keep each notification once, in the
    // order of its newest matching delivery. A notification has a few
    // deliveries at most, so asking for limit * 4 rows fills the page.
    auto filter = f;
    filter.limit = f.limit * 4;
    auto rows = list(filter);
    if (!rows)
      return rows.error();
    std::vector<std::string> seen;
    for (auto& row : *rows) {
      if (seen.size() >= static_cast<size_t>(f.limit))
        break;
      if (std::find(seen.begin(), seen.end(), row.notification_id) !=
          seen.end())
        continue;
      seen.push_back(row.notification_id);
      auto found = entry(row.notification_id);
      if (!found)
        return found.error();
      entries.push_back(std::move(*found));
    }
  }
  std::vector<listed_notification> out;
  out.reserve(entries.size());
  for (auto& e : entries) {
    auto rows = deliveries_of(e.env.notification_id);
    if (!rows)
      return rows.error();
    out.push_back(listed_notification{std::move(e), std::move(*rows)});
  }
  return out;
}

caf::expected<std::vector<outbox_entry>> outbox::held_openings() {
  delivery_filter f;
  f.state = "suppressed";
  f.limit = -1; // all of them
  auto rows = list(f);
  if (!rows)
    return rows.error();
  std::vector<outbox_entry> out;
  const std::string* last = nullptr; // a notification's rows come together
  for (auto& row : *rows) {
    if (row.kind != domain::notification_kind::parent_opened ||
        (last != nullptr && *last == row.notification_id))
      continue;
    last = &row.notification_id;
    auto released = entry(released_id(row.notification_id));
    if (released)
      continue;
    if (code_of(released.error()) != ec::not_found)
      return released.error();
    auto found = entry(row.notification_id);
    if (!found)
      return found.error();
    out.push_back(std::move(*found));
  }
  return out;
}

std::string released_id(std::string_view held_id) {
  std::string id;
  id.reserve(held_id.size() + released_suffix.size());
  id.append(held_id).append(released_suffix);
  return id;
}

caf::error outbox::revive(const std::string& id, const std::string& receiver,
                          domain::time_point now) {
  auto rows = deliveries_of(id);
  if (!rows)
    return rows.error();
  if (rows->empty())
    return make_error(ec::not_found,
                      "no notification " + id + " with deliveries");
  std::vector<domain::delivery> revived;
  caf::error last;
  for (auto& row : *rows) {
    if (!receiver.empty() && row.receiver != receiver)
      continue;
    if (auto err = domain::retry_now(row, now))
      last = std::move(err);
    else
      revived.push_back(row);
  }
  if (revived.empty())
    return last ? last
                : make_error(ec::not_found, "notification " + id +
                                                " has no receiver " + receiver);
  if (auto err = update(revived))
    return err;
  // An update finds nothing to change when the rows went between the read
  // above and it (retention, or the memory outbox's bound): then there is
  // nothing to retry, and saying so beats a retry that never happens. Once
  // stored, a pending delivery stays until it is sent, so one row left
  // means a retry that stands.
  auto after = deliveries_of(id);
  if (!after)
    return after.error();
  auto stands = [&](const domain::delivery& row) {
    return std::any_of(after->begin(), after->end(),
                       [&](auto& x) { return x.receiver == row.receiver; });
  };
  if (std::none_of(revived.begin(), revived.end(), stands))
    return make_error(ec::not_found, "notification " + id +
                                         " was deleted before its retry"
                                         " was stored");
  return {};
}

domain::notification_record record_of(const listed_notification& x) {
  domain::notification_record r;
  auto& env = x.entry.env;
  r.note.seq = x.entry.seq;
  r.note.id = env.notification_id;
  r.note.kind = env.kind;
  r.note.parent = env.parent;
  r.note.at = env.at;
  r.note.child = env.child;
  r.note.active_children = env.active_children;
  r.deliveries = x.deliveries;
  return r;
}

envelope envelope_of(const domain::notification& n) {
  envelope e;
  e.notification_id = n.id;
  e.kind = n.kind;
  e.at = n.at;
  e.parent = n.parent;
  e.child = n.child;
  e.active_children = n.active_children;
  return e;
}

std::string to_stored(const envelope& e) {
  json j{
      {"id", e.notification_id},
      {"kind", domain::to_string(e.kind)},
      {"at_ms", domain::to_millis(e.at)},
      {"parent", alert_to_stored(*e.parent)},
      {"active_children", e.active_children},
  };
  if (!e.child->dedup_key.empty())
    j["child"] = alert_to_stored(*e.child);
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

caf::expected<envelope> envelope_from_stored(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object())
    return make_error(ec::internal, "outbox: a stored notification is not "
                                    "valid JSON");
  try {
    envelope e;
    e.notification_id = j.at("id").get<std::string>();
    auto kind =
        domain::parse_notification_kind(j.at("kind").get<std::string>());
    if (!kind)
      return make_error(ec::internal, "outbox: unknown notification kind");
    e.kind = *kind;
    e.at = domain::from_millis(j.at("at_ms").get<int64_t>());
    e.parent = alert_from_stored(j.at("parent"));
    e.active_children = j.at("active_children").get<int64_t>();
    if (j.contains("child"))
      e.child = alert_from_stored(j.at("child"));
    return e;
  } catch (const json::exception& ex) {
    return make_error(ec::internal,
                      std::string{"outbox: a stored notification lacks a "
                                  "field: "} +
                          ex.what());
  }
}

std::string to_stored(const std::vector<domain::receiver>& rs) {
  json out = json::array();
  for (auto& r : rs) {
    json types = json::array();
    for (auto kind : r.types)
      types.push_back(domain::to_string(kind));
    out.push_back(json{{"name", r.name},
                       {"url", r.url},
                       {"format", domain::to_string(r.format)},
                       {"headers", r.headers},
                       {"secret", r.secret},
                       {"timeout_ms", r.timeout_ms},
                       {"types", types},
                       {"child_added_per_minute", r.child_added_per_minute},
                       {"routing_key", r.routing_key}});
  }
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

caf::expected<std::vector<domain::receiver>>
receivers_from_stored(const std::string& text) {
  auto j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_array())
    return make_error(ec::internal, "stored receivers are not a JSON array");
  std::vector<domain::receiver> out;
  try {
    for (auto& item : j) {
      domain::receiver r;
      r.name = item.at("name").get<std::string>();
      r.url = item.at("url").get<std::string>();
      r.format =
          domain::parse_receiver_format(item.at("format").get<std::string>())
              .value_or(domain::receiver_format::argus);
      r.headers = item.at("headers").get<std::map<std::string, std::string>>();
      r.secret = item.at("secret").get<std::string>();
      r.timeout_ms = item.at("timeout_ms").get<int64_t>();
      r.types.clear();
      for (auto& t : item.at("types"))
        if (auto kind = domain::parse_notification_kind(t.get<std::string>()))
          r.types.push_back(*kind);
      r.child_added_per_minute =
          item.at("child_added_per_minute").get<int64_t>();
      r.routing_key = item.at("routing_key").get<std::string>();
      out.push_back(std::move(r));
    }
  } catch (const json::exception& ex) {
    return make_error(ec::internal,
                      std::string{"stored receivers lack a field: "} +
                          ex.what());
  }
  return out;
}

caf::expected<std::vector<shared_entry>>
share(caf::expected<std::vector<outbox_entry>> entries) {
  if (!entries)
    return std::move(entries.error());
  std::vector<shared_entry> out;
  out.reserve(entries->size());
  for (auto& entry : *entries)
    out.push_back(std::make_shared<const outbox_entry>(std::move(entry)));
  return out;
}

void memory_outbox::add(const domain::notification& n) {
  add(n.parent->event_manager_id.str(), envelope_of(n));
}

void memory_outbox::add(std::string event_manager_id, envelope env) {
  // Built first, so the map's key can view its id: one hash of the id.
  // Field by field in its block: an envelope built aside and moved in
  // moved three strings and two alerts' pointers twice.
  auto made = std::make_shared<outbox_entry>();
  made->event_manager_id = std::move(event_manager_id);
  made->env = std::move(env);
  std::lock_guard<std::mutex> guard{mtx_};
  made->seq = next_seq_;
  shared_entry entry = std::move(made);
  if (!entries_.try_emplace(entry->env.notification_id, entry).second)
    return; // the same notification again (a replay): stored once
  ++next_seq_;
  order_.push_back(slot{std::move(entry)});
  prune();
}

bool memory_outbox::settled(const std::string& id) const {
  for (auto it = rows_of(rows_, id); it != rows_.end() && it->first.first == id;
       ++it)
    if (it->second.state == domain::delivery_state::pending)
      return false;
  return true;
}

void memory_outbox::recheck(const std::string& id) {
  auto entry = entries_.find(id);
  if (entry == entries_.end())
    return;
  auto seq = entry->second->seq;
  auto& s = slot_of(seq);
  bool now_settled = s.fanned && settled(id);
  if (now_settled && !s.settled)
    settled_.push(seq);
  s.settled = now_settled;
}

void memory_outbox::prune() {
  // Memory is the bound here, not the disk: past `keep_` notifications the
  // oldest settled ones (fanned out, nothing pending) go.
  while (entries_.size() > keep_ && !settled_.empty()) {
    auto seq = settled_.top();
    settled_.pop();
    auto& s = slot_of(seq);
    if (s.entry == nullptr || !s.settled)
      continue; // pruned already, or pending again since it settled
    // The entry lives on in `kept` until its last line here.
    auto kept = std::move(s.entry);
    const std::string& id = kept->env.notification_id;
    auto first = rows_of(rows_, id);
    auto last = first;
    while (last != rows_.end() && last->first.first == id)
      ++last;
    for (auto it = first; it != last; ++it)
      pending_.erase(&*it);
    rows_.erase(first, last);
    entries_.erase(std::string_view{id});
  }
  // Slots before the oldest entry kept are dropped. A pruned entry was
  // fanned out, and `unfanned_from_` stops at the first slot that was not,
  // so it never points before the slots that remain.
  while (!order_.empty() && order_.front().entry == nullptr) {
    order_.pop_front();
    ++first_seq_;
  }
}

caf::expected<std::vector<outbox_entry>> memory_outbox::latest(size_t limit) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<outbox_entry> out;
  for (auto it = order_.rbegin(); it != order_.rend() && out.size() < limit;
       ++it)
    if (it->entry != nullptr)
      out.push_back(*it->entry);
  return out;
}

caf::expected<std::vector<shared_entry>> memory_outbox::unfanned(size_t limit) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<shared_entry> out;
  for (auto seq = unfanned_from_; seq < next_seq_ && out.size() < limit;
       ++seq) {
    auto& s = slot_of(seq);
    if (!s.fanned)
      out.push_back(s.entry);
  }
  return out;
}

caf::error memory_outbox::fan_out(const std::vector<std::string>& ids,
                                  const std::vector<domain::delivery>& rows) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& id : ids) {
    auto entry = entries_.find(id);
    if (entry != entries_.end())
      slot_of(entry->second->seq).fanned = true;
  }
  while (unfanned_from_ < next_seq_ && slot_of(unfanned_from_).fanned)
    ++unfanned_from_;
  for (auto& row : rows)
    put(row, false);
  for (auto& id : ids)
    recheck(id);
  // Settled now: past the bound they go at once, not at the next add (after
  // a burst that may be long in coming, with the whole backlog held).
  prune();
  return {};
}

void memory_outbox::put(const domain::delivery& row, bool replace) {
  auto [it, added] =
      rows_.try_emplace(key{row.notification_id, row.receiver}, row);
  if (!added) {
    if (!replace)
      return;
    pending_.erase(&*it);
    it->second = row;
  }
  if (row.state == domain::delivery_state::pending)
    pending_.insert(&*it);
}

caf::expected<std::vector<domain::delivery>>
memory_outbox::pending(size_t limit) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<domain::delivery> out;
  out.reserve(std::min(limit, pending_.size()));
  for (auto it = pending_.begin(); it != pending_.end() && out.size() < limit;
       ++it)
    out.push_back((*it)->second);
  return out;
}

caf::error memory_outbox::update(const std::vector<domain::delivery>& rows) {
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& row : rows)
    put(row, true);
  for (auto& row : rows)
    recheck(row.notification_id);
  prune();
  return {};
}

caf::expected<outbox_entry> memory_outbox::entry(const std::string& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto it = entries_.find(id);
  if (it == entries_.end())
    return make_error(ec::not_found, "no notification " + id);
  return *it->second;
}

caf::expected<std::vector<domain::delivery>>
memory_outbox::list(const delivery_filter& f) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<domain::delivery> out;
  for (auto& [k, row] : rows_)
    if ((f.state.empty() || domain::to_string(row.state) == f.state) &&
        (f.receiver.empty() || row.receiver == f.receiver))
      out.push_back(row);
  std::sort(out.begin(), out.end(), newer_first);
  if (f.limit >= 0 && out.size() > static_cast<size_t>(f.limit))
    out.resize(static_cast<size_t>(f.limit));
  return out;
}

caf::expected<std::vector<domain::delivery>>
memory_outbox::deliveries_of(const std::string& id) {
  std::lock_guard<std::mutex> guard{mtx_};
  std::vector<domain::delivery> out;
  for (auto it = rows_of(rows_, id); it != rows_.end() && it->first.first == id;
       ++it)
    out.push_back(it->second);
  return out;
}

} // namespace argus::delivery
