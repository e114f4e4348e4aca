// The delivery worker end to end, on the memory outbox, against real HTTP
// receivers: fan-out, bodies and signatures, retries with backoff and
// Retry-After, dead letter and manual retry, order per group, a dead
// receiver beside a healthy one, and a restart with pending deliveries.

#include "delivery/outbox.hpp"
#include "delivery/receiver_server.hpp"
#include "delivery/signature.hpp"
#include "delivery/worker.hpp"
#include "domain/alert.hpp"
#include "domain/error.hpp"

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <thread>

namespace {

using namespace std::chrono_literals;
using namespace argus::domain;
using argus::delivery::delivery_filter;
using argus::delivery::envelope;
using argus::delivery::manager_view;
using argus::delivery::memory_outbox;
using argus::delivery::worker;
using argus::delivery::worker_settings;
using argus::test::idle_port;
using argus::test::receiver_server;
using json = nlohmann::json;
using steady = std::chrono::steady_clock;

namespace {

/// The worker's clock (it is started without one).
time_point system_now() {
  return time_point{std::chrono::duration_cast<duration>(
      std::chrono::system_clock::now().time_since_epoch())};
}

} // namespace

bool eventually(const std::function<bool()>& pred,
                std::chrono::milliseconds deadline = 5s) {
  auto until = steady::now() + deadline;
  while (!pred()) {
    if (steady::now() >= until)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

envelope stored(const std::string& dedup, notification_kind kind,
                const std::string& group = "database") {
  envelope e;
  e.kind = kind;
  e.at = system_now();
  alert parent;
  parent.id = alert_id_for("payments", dedup);
  parent.dedup_key = dedup;
  parent.event_manager_id = "payments";
  parent.summary = "DB primary down";
  parent.sev = severity::high;
  parent.has_grouping_value = true;
  parent.grouping_value = group;
  parent.created_at = e.at;
  e.parent = std::move(parent);
  e.notification_id = notification_id_for(e.parent->id, kind, e.at, 1);
  return e;
}

receiver to(const std::string& name, const std::string& url,
            receiver_format f = receiver_format::argus) {
  receiver r;
  r.name = name;
  r.url = url;
  r.format = f;
  r.timeout_ms = 2000;
  r.routing_key = "KEY";
  return r;
}

worker_settings fast_retries() {
  worker_settings s;
  s.retry.initial = 50ms;
  s.retry.max = 200ms;
  s.retry.max_attempts = 5;
  s.retry.max_age = 1h;
  s.poll_interval = 100ms;
  return s;
}

/// A worker whose manager "payments" has the receivers `rs`.
std::unique_ptr<worker> start(std::shared_ptr<memory_outbox> box,
                              std::vector<receiver> rs,
                              worker_settings s = fast_retries()) {
  auto view = manager_view{"Payments", std::move(rs)};
  return std::make_unique<worker>(
      box, s, [view](const std::string& id) -> std::optional<manager_view> {
        if (id != "payments")
          return std::nullopt;
        return view;
      });
}

std::vector<delivery> rows(memory_outbox& box, const std::string& state = {}) {
  delivery_filter f;
  f.state = state;
  return *box.list(f);
}

} // namespace

TEST_CASE("a stored notification reaches every receiver that wants it",
          "[integration][delivery]") {
  receiver_server argus_rx{[](auto&, auto& res, int) { res.status = 200; }};
  receiver_server am_rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto box = std::make_shared<memory_outbox>();
  auto only_resolved = to("later", am_rx.url());
  only_resolved.types = {notification_kind::parent_resolved};
  auto secret = to("ops", argus_rx.url());
  secret.secret = "s3cret";
  auto w =
      start(box, {secret, to("am", am_rx.url(), receiver_format::alertmanager),
                  only_resolved});
  auto e = stored("db-1", notification_kind::parent_opened);
  box->add("payments", e);
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 2; }));
  CHECK(rows(*box).size() == 2); // "later" wants no opening
  auto got = argus_rx.requests();
  REQUIRE(got.size() == 1);
  auto& req = got[0];
  CHECK(req.get_header_value("Idempotency-Key") == e.notification_id);
  CHECK(req.get_header_value("X-Argus-Notification-Id") == e.notification_id);
  auto body = json::parse(req.body);
  CHECK(body["notification"]["id"] == e.notification_id);
  CHECK(body["manager"]["name"] == "Payments");
  // The receiver's side of the signature check.
  auto sig = req.get_header_value("X-Argus-Signature");
  auto comma = sig.find(",v1=");
  REQUIRE(sig.rfind("t=", 0) == 0);
  REQUIRE(comma != std::string::npos);
  auto t = sig.substr(2, comma - 2);
  CHECK(sig.substr(comma + 4) ==
        argus::delivery::hmac_sha256_hex("s3cret", t + "." + req.body));
  CHECK(std::abs(std::stoll(t) - std::time(nullptr)) < 60);
  auto am = am_rx.requests();
  REQUIRE(am.size() == 1);
  CHECK(json::parse(am[0].body)["version"] == "4");
  CHECK(am[0].get_header_value("X-Argus-Signature").empty());
}

TEST_CASE("500 then 200 is retried after a backoff and delivered",
          "[integration][delivery]") {
  std::vector<steady::time_point> at;
  std::mutex mtx;
  receiver_server rx{[&](auto&, auto& res, int nth) {
    std::lock_guard<std::mutex> guard{mtx};
    at.push_back(steady::now());
    res.status = nth == 1 ? 500 : 200;
  }};
  auto box = std::make_shared<memory_outbox>();
  auto w = start(box, {to("ops", rx.url())});
  box->add("payments", stored("db-1", notification_kind::parent_opened));
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 1; }));
  auto row = rows(*box)[0];
  CHECK(row.attempts == 2);
  CHECK(row.last_error.empty());
  std::lock_guard<std::mutex> guard{mtx};
  REQUIRE(at.size() == 2);
  CHECK(at[1] - at[0] >= 25ms); // backoff: 50 ms with equal jitter
  CHECK(rx.requests()[0].get_header_value("Idempotency-Key") ==
        rx.requests()[1].get_header_value("Idempotency-Key"));
}

TEST_CASE("429 with Retry-After waits as long as the receiver asks",
          "[integration][delivery]") {
  std::vector<steady::time_point> at;
  std::mutex mtx;
  receiver_server rx{[&](auto&, auto& res, int nth) {
    std::lock_guard<std::mutex> guard{mtx};
    at.push_back(steady::now());
    res.status = nth == 1 ? 429 : 200;
    res.set_header("Retry-After", "1");
  }};
  auto box = std::make_shared<memory_outbox>();
  auto w = start(box, {to("ops", rx.url())});
  box->add("payments", stored("db-1", notification_kind::parent_opened));
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 1; }));
  std::lock_guard<std::mutex> guard{mtx};
  REQUIRE(at.size() == 2);
  CHECK(at[1] - at[0] >= 950ms);
}

TEST_CASE("a 400 is dead-lettered and a manual retry delivers it",
          "[integration][delivery]") {
  std::atomic<int> answer{400};
  receiver_server rx{[&](auto&, auto& res, int) { res.status = answer; }};
  auto box = std::make_shared<memory_outbox>();
  auto w = start(box, {to("ops", rx.url())});
  auto e = stored("db-1", notification_kind::parent_opened);
  box->add("payments", e);
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "failed").size() == 1; }));
  auto failed = rows(*box, "failed")[0];
  CHECK(failed.attempts == 1);
  CHECK(failed.last_error == "HTTP 400 (not retried)");
  CHECK(rx.requests().size() == 1);

  answer = 200;
  std::promise<caf::error> retried;
  w->retry(e.notification_id, "",
           [&](caf::error err) { retried.set_value(std::move(err)); });
  CHECK_FALSE(retried.get_future().get());
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 1; }));
  CHECK(rx.requests().size() == 2);
  CHECK(rx.requests()[1].get_header_value("Idempotency-Key") ==
        e.notification_id);

  std::promise<caf::error> again;
  w->retry(e.notification_id, "",
           [&](caf::error err) { again.set_value(std::move(err)); });
  CHECK(argus::code_of(again.get_future().get()) == argus::ec::conflict);
  std::promise<caf::error> unknown;
  w->retry("nope", "",
           [&](caf::error err) { unknown.set_value(std::move(err)); });
  CHECK(argus::code_of(unknown.get_future().get()) == argus::ec::not_found);
}

TEST_CASE("running out of attempts dead-letters with the last error",
          "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 503; }};
  auto box = std::make_shared<memory_outbox>();
  auto s = fast_retries();
  s.retry.max_attempts = 3;
  auto w = start(box, {to("ops", rx.url())}, s);
  box->add("payments", stored("db-1", notification_kind::parent_opened));
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "failed").size() == 1; }));
  auto row = rows(*box)[0];
  CHECK(row.attempts == 3);
  CHECK(row.last_error == "HTTP 503 (gave up after 3 attempts)");
  CHECK(rx.requests().size() == 3);
  CHECK(w->failed() == 1);
}

TEST_CASE("an opening is delivered before its resolution",
          "[integration][delivery]") {
  receiver_server rx{
      [](auto&, auto& res, int nth) { res.status = nth <= 2 ? 500 : 200; }};
  auto box = std::make_shared<memory_outbox>();
  auto w = start(box, {to("ops", rx.url())});
  box->add("payments", stored("db-1", notification_kind::parent_opened));
  box->add("payments", stored("db-1", notification_kind::parent_resolved));
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 2; }));
  auto got = rx.requests();
  REQUIRE(got.size() == 4);
  for (size_t i = 0; i < 3; ++i)
    CHECK(json::parse(got[i].body)["notification"]["type"] == "parent_opened");
  CHECK(json::parse(got[3].body)["notification"]["type"] == "parent_resolved");
}

TEST_CASE("a backlog that makes no delivery is read on without waiting for "
          "a poll",
          "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto box = std::make_shared<memory_outbox>(5);
  auto only_resolved = to("later", rx.url());
  only_resolved.types = {notification_kind::parent_resolved};
  auto s = fast_retries();
  s.batch = 10;
  s.poll_interval = 1h; // only a poke or the backlog itself wakes it
  auto w = start(box, {only_resolved}, s);
  // Five batches of openings nobody wants, then the one resolution that
  // is wanted: it is behind them all.
  for (int i = 0; i < 50; ++i)
    box->add("payments", stored("db-" + std::to_string(i),
                                notification_kind::parent_opened));
  box->add("payments", stored("db-0", notification_kind::parent_resolved));
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 1; }));
  REQUIRE(rx.requests().size() == 1);
  CHECK(json::parse(rx.requests()[0].body)["notification"]["type"] ==
        "parent_resolved");
  // Settled as they were fanned out: the outbox kept no more than its
  // bound of them, not the whole backlog.
  auto kept = box->latest(100);
  REQUIRE(kept);
  CHECK(kept->size() <= 5);
}

TEST_CASE("a hanging receiver does not hold up a healthy one",
          "[integration][delivery]") {
  receiver_server* self = nullptr;
  receiver_server hang{[&](auto&, auto& res, int) {
    self->hang_until_released(5s);
    res.status = 200;
  }};
  self = &hang;
  receiver_server ok{[](auto&, auto& res, int) { res.status = 200; }};
  auto box = std::make_shared<memory_outbox>();
  auto w = start(box, {to("hang", hang.url()), to("ok", ok.url())});
  auto start_at = steady::now();
  for (int i = 0; i < 5; ++i)
    box->add("payments",
             stored("k" + std::to_string(i), notification_kind::parent_opened,
                    "g" + std::to_string(i)));
  w->poke();
  REQUIRE(eventually([&] { return ok.requests().size() == 5; }));
  CHECK(steady::now() - start_at < 1500ms); // well before the 2 s timeout
}

TEST_CASE("pending deliveries survive a restart with the same id",
          "[integration][delivery]") {
  int port = idle_port();
  auto url = "http://127.0.0.1:" + std::to_string(port) + "/hook";
  auto box = std::make_shared<memory_outbox>();
  auto e = stored("db-1", notification_kind::parent_opened);
  {
    auto w = start(box, {to("ops", url)});
    box->add("payments", e);
    w->poke();
    REQUIRE(eventually([&] {
      auto r = rows(*box);
      return r.size() == 1 && r[0].attempts >= 1;
    }));
  }
  auto row = rows(*box)[0];
  CHECK(row.state == delivery_state::pending);
  CHECK_FALSE(row.last_error.empty()); // connection refused
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }, port};
  auto w = start(box, {to("ops", url)});
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 1; }));
  REQUIRE(rx.requests().size() == 1);
  CHECK(rx.requests()[0].get_header_value("Idempotency-Key") ==
        e.notification_id);
}

TEST_CASE("child_added is capped per receiver and group",
          "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto box = std::make_shared<memory_outbox>();
  auto r = to("ops", rx.url());
  r.types = {notification_kind::child_added};
  r.child_added_per_minute = 2;
  auto w = start(box, {r});
  for (int i = 0; i < 5; ++i) {
    auto e = stored("db-1", notification_kind::child_added);
    e.notification_id += std::to_string(i);
    e.child = e.parent;
    e.child.edit().dedup_key = "c" + std::to_string(i);
    box->add("payments", e);
  }
  box->add("payments", stored("db-1", notification_kind::parent_opened));
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 2; }));
  std::this_thread::sleep_for(200ms); // nothing else comes
  CHECK(rx.requests().size() == 2);
  CHECK(box->unfanned(10)->empty());
}

namespace {

/// What the release tests control: whether the parent is silenced, the
/// manager's active alerts, and the notifications the worker adds.
struct muting {
  std::mutex mtx;
  bool silenced = true;
  /// When the silence ends by itself (its endsAt, on the system clock);
  /// unset: only when `silenced` is cleared.
  std::optional<time_point> ends_at;
  std::vector<alert> active;
  std::vector<argus::domain::inhibit_rule> rules;
  /// How often the worker read the active alerts.
  int reads = 0;
  /// Whether the access offers the read of inhibition sources alone, as
  /// the node's does, and how often the worker made it.
  bool with_sources = false;
  int source_reads = 0;
  /// How many of the next sources' reads fail (a store error); -1: all.
  int failing_source_reads = 0;
  /// How long each read takes (a large manager, a busy store).
  std::chrono::milliseconds read_takes{0};
  /// Stands for the catalog's snapshot: a new one is a change of what
  /// mutes alerts.
  std::shared_ptr<const void> catalog = std::make_shared<int>(0);

  int reads_so_far() {
    std::lock_guard<std::mutex> guard{mtx};
    return reads;
  }

  int source_reads_so_far() {
    std::lock_guard<std::mutex> guard{mtx};
    return source_reads;
  }

  argus::delivery::alert_access access(std::shared_ptr<memory_outbox> box,
                                       std::shared_ptr<muting> self) {
    argus::delivery::alert_access out;
    out.active =
        [self](const std::string&) -> caf::expected<std::vector<alert>> {
      std::unique_lock<std::mutex> guard{self->mtx};
      ++self->reads;
      auto takes = self->read_takes;
      guard.unlock();
      std::this_thread::sleep_for(takes);
      guard.lock();
      return self->active;
    };
    if (with_sources)
      out.sources =
          [self](const std::string&,
                 const std::vector<argus::domain::inhibit_rule>& rules)
          -> caf::expected<std::vector<alert>> {
        std::lock_guard<std::mutex> guard{self->mtx};
        ++self->source_reads;
        if (self->failing_source_reads != 0) {
          if (self->failing_source_reads > 0)
            --self->failing_source_reads;
          return argus::make_error(argus::ec::internal, "store unavailable");
        }
        std::vector<alert> sources;
        for (auto& a : self->active)
          if (argus::http::active_alerts::may_inhibit(rules, a))
            sources.push_back(a);
        return sources;
      };
    out.muting = [self] {
      std::lock_guard<std::mutex> guard{self->mtx};
      return self->catalog;
    };
    out.add = [box](argus::domain::notification n) {
      box->add(n.parent->event_manager_id.str(),
               argus::delivery::envelope_of(n));
    };
    return out;
  }
};

std::unique_ptr<worker> start_muted(std::shared_ptr<memory_outbox> box,
                                    std::shared_ptr<muting> m,
                                    std::vector<receiver> rs,
                                    worker_settings s = fast_retries()) {
  auto lookup = [m, rs](const std::string& id) -> std::optional<manager_view> {
    if (id == "billing") // the same receivers, and nothing mutes its alerts
      return manager_view{"Billing", rs};
    if (id != "payments")
      return std::nullopt;
    manager_view view{"Payments", rs};
    view.silenced_by = [m](const alert&) {
      std::lock_guard<std::mutex> guard{m->mtx};
      auto ended = m->ends_at && system_now() >= *m->ends_at;
      return m->silenced && !ended ? std::vector<std::string>{"s1"}
                                   : std::vector<std::string>{};
    };
    view.silenced_until = [m](const std::vector<std::string>&) {
      std::lock_guard<std::mutex> guard{m->mtx};
      return m->ends_at.value_or(forever);
    };
    std::lock_guard<std::mutex> guard{m->mtx};
    view.inhibit_rules = m->rules;
    return view;
  };
  return std::make_unique<worker>(
      box, std::move(s), lookup, argus::delivery::worker::clock_fn{},
      argus::delivery::worker::jitter_fn{}, m->access(box, m));
}

/// A manager without silences whose one inhibit rule lets an active
/// "outage" alert mute the "disk" alerts.
std::shared_ptr<muting> outage_mutes_disks() {
  auto m = std::make_shared<muting>();
  m->silenced = false;
  argus::domain::silence_matcher outage{"class", "outage", false, true};
  argus::domain::silence_matcher disk{"class", "disk", false, true};
  m->rules = {{{outage}, {disk}, {}}};
  return m;
}

/// A stored notification about an alert of class `class_name`.
envelope of_class(const std::string& class_name, const std::string& dedup,
                  notification_kind kind, const std::string& group) {
  auto e = stored(dedup, kind, group);
  e.parent.edit().class_name = class_name;
  return e;
}

/// Starts a muted worker sending to `rx`, and adds `e`; answers once the
/// worker held it back.
std::unique_ptr<worker> hold(std::shared_ptr<memory_outbox> box,
                             std::shared_ptr<muting> m, receiver_server& rx,
                             const envelope& e,
                             worker_settings s = fast_retries()) {
  auto w = start_muted(box, std::move(m), {to("ops", rx.url())}, std::move(s));
  box->add("payments", e);
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "suppressed").size() == 1; }));
  return w;
}

/// The silence that holds openings ends.
void unmute(muting& m) {
  std::lock_guard<std::mutex> guard{m.mtx};
  m.silenced = false;
}

/// db-1's opening, the one active alert of "payments", which the silence
/// holds back; releases go to `rx`.
struct held_db_opening {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  std::shared_ptr<memory_outbox> box = std::make_shared<memory_outbox>();
  std::shared_ptr<muting> m = std::make_shared<muting>();
  envelope e = stored("db-1", notification_kind::parent_opened);

  held_db_opening() { m->active = {*e.parent}; }

  /// The opening went out once.
  void require_released_once() {
    REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 1; }));
    CHECK(rx.requests().size() == 1);
  }

  /// Starts a worker, and waits until it held the opening back.
  std::unique_ptr<worker> start(worker_settings s = fast_retries()) {
    return hold(box, m, rx, e, std::move(s));
  }
};

size_t openings_received(receiver_server& rx) {
  size_t n = 0;
  for (auto& req : rx.requests())
    if (json::parse(req.body)["notification"]["type"] == "parent_opened")
      ++n;
  return n;
}

} // namespace

TEST_CASE("a held opening is released once when its silence ends, also "
          "across a restart",
          "[integration][delivery]") {
  held_db_opening h;
  {
    auto w = h.start();
    CHECK(rows(*h.box, "suppressed")[0].last_error == "silenced by s1");
  }
  // A new worker (a restart) finds the held opening in the outbox; the
  // silence ends: one opening goes out, named after the held one.
  unmute(*h.m);
  auto w = start_muted(h.box, h.m, {to("ops", h.rx.url())});
  REQUIRE(eventually([&] { return rows(*h.box, "delivered").size() == 1; }));
  REQUIRE(h.rx.requests().size() == 1);
  CHECK(h.rx.requests()[0].get_header_value("Idempotency-Key") ==
        h.e.notification_id + "-released");
  // Several more reviews later, still one.
  std::this_thread::sleep_for(400ms);
  w->poke();
  std::this_thread::sleep_for(200ms);
  CHECK(h.rx.requests().size() == 1);
  // And a restart after the release does not send it again.
  w.reset();
  w = start_muted(h.box, h.m, {to("ops", h.rx.url())});
  std::this_thread::sleep_for(400ms);
  CHECK(h.rx.requests().size() == 1);
}

TEST_CASE("held openings are looked at less often when a look is costly, "
          "and still released",
          "[integration][delivery]") {
  held_db_opening h;
  h.m->read_takes = 100ms;
  auto w = h.start();
  // Each look reads for 100 ms: the next one waits 10 poll intervals
  // (1 s), where a poll interval (100 ms) would make 7 or so of them.
  auto before = h.m->reads_so_far();
  std::this_thread::sleep_for(1500ms);
  CHECK(h.m->reads_so_far() - before <= 3);
  unmute(*h.m);
  h.require_released_once();
}

TEST_CASE("a change of what mutes alerts brings the next look at held "
          "openings forward",
          "[integration][delivery]") {
  held_db_opening h;
  // Looks of 600 ms at a poll interval of 1 s: 10 s between looks.
  h.m->read_takes = 600ms;
  auto s = fast_retries();
  s.poll_interval = 1s;
  auto w = h.start(s);
  // After a look that read the alerts (and found the opening silenced),
  // the silence is expired through the API: a new catalog.
  REQUIRE(eventually([&] { return h.m->reads_so_far() > 0; }));
  std::this_thread::sleep_for(1s); // the look's read ends
  {
    std::lock_guard<std::mutex> guard{h.m->mtx};
    h.m->silenced = false;
    h.m->catalog = std::make_shared<int>(1);
  }
  // Released within a poll interval and a look, not after the 10 s pause.
  h.require_released_once();
}

TEST_CASE("a held opening goes out when its silence's end comes, not at the "
          "looks' pace",
          "[integration][delivery]") {
  held_db_opening h;
  // Looks of 600 ms at a poll interval of 1 s: 10 s between looks.
  h.m->read_takes = 600ms;
  h.m->ends_at = system_now() + 2500ms;
  auto s = fast_retries();
  s.poll_interval = 1s;
  auto w = h.start(s);
  // The opening is held until the silence ends by its endsAt (nothing
  // tells the worker), and released within a poll interval and a look
  // of it, not after the 10 s pause.
  REQUIRE(eventually([&] { return h.m->reads_so_far() > 0; }));
  CHECK(rows(*h.box, "delivered").empty());
  h.require_released_once();
}

TEST_CASE("a newer opening of a held parent replaces the held one, and other "
          "parents' stay held",
          "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto box = std::make_shared<memory_outbox>();
  auto m = std::make_shared<muting>();
  auto older = stored("db-1", notification_kind::parent_opened);
  auto newer = older;
  newer.notification_id += "-again";
  auto other = stored("db-2", notification_kind::parent_opened);
  m->active = {*older.parent, *other.parent};
  auto w = start_muted(box, m, {to("ops", rx.url())});
  for (auto* e : {&older, &other, &newer})
    box->add("payments", *e);
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "suppressed").size() == 3; }));
  unmute(*m);
  REQUIRE(eventually([&] { return rx.requests().size() == 2; }));
  std::this_thread::sleep_for(400ms); // a few more reviews
  std::set<std::string> sent;
  for (auto& req : rx.requests())
    sent.insert(req.get_header_value("Idempotency-Key"));
  CHECK(sent == std::set<std::string>{newer.notification_id + "-released",
                                      other.notification_id + "-released"});
}

TEST_CASE("a held opening whose parent resolved while muted is never sent",
          "[integration][delivery]") {
  held_db_opening h;
  auto w = h.start();
  {
    std::lock_guard<std::mutex> guard{h.m->mtx};
    h.m->active.clear(); // resolved
  }
  std::this_thread::sleep_for(300ms); // a few reviews
  unmute(*h.m);
  std::this_thread::sleep_for(300ms);
  w->poke();
  std::this_thread::sleep_for(200ms);
  CHECK(h.rx.requests().empty());
  CHECK(rows(*h.box).size() == 1);
}

TEST_CASE("an inhibited opening is held while its source is active and "
          "released when it resolves",
          "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto box = std::make_shared<memory_outbox>();
  auto m = outage_mutes_disks();
  auto source = of_class("outage", "outage-1", notification_kind::parent_opened,
                         "database");
  auto target =
      of_class("disk", "disk-1", notification_kind::parent_opened, "disks");
  m->active = {*source.parent, *target.parent};
  auto w = start_muted(box, m, {to("ops", rx.url())});
  box->add("payments", target);
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "suppressed").size() == 1; }));
  CHECK(rows(*box, "suppressed")[0].last_error == "inhibited by outage-1");
  std::this_thread::sleep_for(300ms); // still inhibited: nothing
  CHECK(rx.requests().empty());
  {
    std::lock_guard<std::mutex> guard{m->mtx};
    m->active = {*target.parent}; // the source resolved
  }
  REQUIRE(eventually([&] { return openings_received(rx) == 1; }));
  CHECK(rx.requests()[0].get_header_value("Idempotency-Key") ==
        target.notification_id + "-released");
  std::this_thread::sleep_for(300ms);
  CHECK(rx.requests().size() == 1);
}

namespace {

/// disk-1's opening, held by an inhibition whose source is `source`, with
/// looks of 600 ms at a poll interval of 1 s: 10 s between paced looks.
struct held_by_costly_inhibition {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  std::shared_ptr<memory_outbox> box = std::make_shared<memory_outbox>();
  std::shared_ptr<muting> m = outage_mutes_disks();
  envelope target =
      of_class("disk", "disk-1", notification_kind::parent_opened, "disks");
  std::unique_ptr<worker> w;

  explicit held_by_costly_inhibition(const alert& source) {
    m->read_takes = 600ms;
    auto s = fast_retries();
    s.poll_interval = 1s;
    m->active = {source, *target.parent};
    w = hold(box, m, rx, target, s);
    std::this_thread::sleep_for(1s); // a look's read ends
  }

  /// The source resolved: only the target is active.
  void source_resolved() {
    std::lock_guard<std::mutex> guard{m->mtx};
    m->active = {*target.parent};
  }

  /// Released within a poll interval and a look, not after the 10 s pause.
  void require_released() {
    REQUIRE(eventually([&] { return openings_received(rx) == 1; }));
    CHECK(rows(*box, "suppressed").size() == 1); // the held one, as stored
  }
};

} // namespace

TEST_CASE("the resolution of an inhibition source brings the look at the "
          "openings it held forward",
          "[integration][delivery]") {
  auto source = of_class("outage", "outage-1", notification_kind::parent_opened,
                         "database");
  held_by_costly_inhibition h{*source.parent};
  CHECK(rows(*h.box, "suppressed")[0].last_error == "inhibited by outage-1");
  // The source resolves: the repository stores the change with its
  // notification, and tells the worker of both.
  auto resolution = of_class("outage", "outage-1",
                             notification_kind::parent_resolved, "database");
  resolution.parent.edit().status = argus::domain::alert_status::resolved;
  h.source_resolved();
  h.box->add("payments", resolution);
  h.w->stored({argus::domain::alert_write{*resolution.parent, 1}});
  h.w->poke();
  h.require_released();
}

TEST_CASE("the resolution of a child inhibition source, as the repository "
          "stores it, brings the look at the openings it held forward",
          "[integration][delivery]") {
  // The source is a child: it resolves without a notification.
  auto source = *of_class("outage", "outage-2", notification_kind::child_added,
                          "database")
                     .parent;
  source.type = argus::domain::alert_type::child;
  source.parent_dedup_key = "outage-1";
  held_by_costly_inhibition h{source};
  CHECK(rows(*h.box, "suppressed")[0].last_error == "inhibited by outage-2");
  source.status = argus::domain::alert_status::resolved;
  h.source_resolved();
  // The repository stored the child's resolution, beside a change of
  // another alert.
  h.w->stored({argus::domain::alert_write{*h.target.parent, 0},
               argus::domain::alert_write{source, 1}});
  h.require_released();
}

TEST_CASE("only an active target of an inhibit rule makes the worker read "
          "the active alerts",
          "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto box = std::make_shared<memory_outbox>();
  auto m = outage_mutes_disks();
  auto source = of_class("outage", "outage-1", notification_kind::parent_opened,
                         "database");
  m->active = {*source.parent};
  auto w = start_muted(box, m, {to("ops", rx.url())});
  // No rule targets a cpu alert, and a resolved disk alert is no longer
  // active: both go out, and neither needs the active alerts.
  auto cpu = of_class("cpu", "cpu-1", notification_kind::parent_opened, "cpus");
  auto resolved =
      of_class("disk", "disk-0", notification_kind::parent_resolved, "disks");
  resolved.parent.edit().status = argus::domain::alert_status::resolved;
  box->add("payments", cpu);
  box->add("payments", resolved);
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 2; }));
  CHECK(m->reads_so_far() == 0);
  // A disk alert is a target: its opening reads them, and is inhibited.
  auto target =
      of_class("disk", "disk-1", notification_kind::parent_opened, "disks");
  box->add("payments", target);
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "suppressed").size() == 1; }));
  CHECK(rows(*box, "suppressed")[0].last_error == "inhibited by outage-1");
  CHECK(m->reads_so_far() >= 1);
}

TEST_CASE("a fan-out reads the inhibition sources alone where it can, and a "
          "look at held openings reads every active alert",
          "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto box = std::make_shared<memory_outbox>();
  auto m = outage_mutes_disks();
  m->with_sources = true;
  auto source = of_class("outage", "outage-1", notification_kind::parent_opened,
                         "database");
  auto target =
      of_class("disk", "disk-1", notification_kind::parent_opened, "disks");
  // Active alerts that are no source: the sources' read leaves them out.
  auto cpu = of_class("cpu", "cpu-1", notification_kind::parent_opened, "cpus");
  m->active = {*source.parent, *target.parent, *cpu.parent};
  auto w = start_muted(box, m, {to("ops", rx.url())});
  box->add("payments", target);
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "suppressed").size() == 1; }));
  CHECK(rows(*box, "suppressed")[0].last_error == "inhibited by outage-1");
  CHECK(m->source_reads_so_far() >= 1);
  // The held opening's parent is found among every active alert: the look
  // at it reads them all, and releases it once its source resolved.
  {
    std::lock_guard<std::mutex> guard{m->mtx};
    m->active = {*target.parent, *cpu.parent};
  }
  auto resolved = *source.parent;
  resolved.status = argus::domain::alert_status::resolved;
  w->stored({argus::domain::alert_write{resolved, 0}});
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 1; }));
  CHECK(m->reads_so_far() >= 1);
  CHECK(openings_received(rx) == 1);
}

TEST_CASE("a fan-out that cannot read the inhibition sources waits, in "
          "order, and decides once it can",
          "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto box = std::make_shared<memory_outbox>();
  auto m = outage_mutes_disks();
  m->with_sources = true;
  m->failing_source_reads = -1; // the store is down
  auto source = of_class("outage", "outage-1", notification_kind::parent_opened,
                         "database");
  auto target =
      of_class("disk", "disk-1", notification_kind::parent_opened, "disks");
  // No rule targets these, so they need no read: one came before the
  // target, one after it, and one is another manager's.
  auto before =
      of_class("cpu", "cpu-1", notification_kind::parent_opened, "cpus");
  auto after =
      of_class("cpu", "cpu-2", notification_kind::parent_opened, "cpus");
  auto other =
      of_class("disk", "disk-9", notification_kind::parent_opened, "disks");
  other.parent.edit().event_manager_id = shared_text{"billing"};
  m->active = {*source.parent, *target.parent};
  auto w = start_muted(box, m, {to("ops", rx.url())});
  box->add("payments", before);
  box->add("payments", target);
  box->add("payments", after);
  box->add("billing", other);
  w->poke();
  // Tried at each poll; meanwhile neither the target goes out unmuted nor
  // what its manager sent after it. The rest goes on.
  REQUIRE(eventually([&] { return m->source_reads_so_far() >= 3; }));
  CHECK(box->unfanned(10)->size() == 2);
  REQUIRE(eventually([&] { return openings_received(rx) == 2; }));
  auto delivered = rows(*box, "delivered");
  std::set<std::string> delivered_ids;
  for (auto& d : delivered)
    delivered_ids.insert(d.notification_id);
  CHECK(delivered_ids ==
        std::set<std::string>{before.notification_id, other.notification_id});
  CHECK(rows(*box, "suppressed").empty());
  {
    std::lock_guard<std::mutex> guard{m->mtx};
    m->failing_source_reads = 0; // the store is back
  }
  REQUIRE(eventually([&] { return rows(*box, "delivered").size() == 3; }));
  REQUIRE(rows(*box, "suppressed").size() == 1);
  CHECK(rows(*box, "suppressed")[0].notification_id == target.notification_id);
  CHECK(rows(*box, "suppressed")[0].last_error == "inhibited by outage-1");
  CHECK(box->unfanned(10)->empty());
}

TEST_CASE("while the inhibition sources stay unreadable past the wait, "
          "notifications go out without the check",
          "[integration][delivery]") {
  receiver_server rx{[](auto&, auto& res, int) { res.status = 200; }};
  auto box = std::make_shared<memory_outbox>();
  auto m = outage_mutes_disks();
  m->with_sources = true;
  m->failing_source_reads = -1;
  auto source = of_class("outage", "outage-1", notification_kind::parent_opened,
                         "database");
  auto target =
      of_class("disk", "disk-1", notification_kind::parent_opened, "disks");
  m->active = {*source.parent, *target.parent};
  auto s = fast_retries();
  s.unchecked_wait = 2s;
  auto started = steady::now();
  auto w = start_muted(box, m, {to("ops", rx.url())}, s);
  box->add("payments", target);
  // However often poked (new notifications), the read is tried once per
  // poll interval (100 ms).
  for (int i = 0; i < 50; ++i) {
    w->poke();
    std::this_thread::sleep_for(10ms);
  }
  // A page that may be noise beats none while the store stays down.
  REQUIRE(eventually([&] { return openings_received(rx) == 1; }));
  CHECK(steady::now() - started >= 2s);
  auto reads = m->source_reads_so_far();
  CHECK(reads >= 2);
  CHECK(reads <= 30);
  CHECK(rows(*box, "suppressed").empty());
  // The same outage: a later opening does not wait again.
  auto later =
      of_class("disk", "disk-1b", notification_kind::parent_opened, "disks");
  auto added = steady::now();
  box->add("payments", later);
  w->poke();
  REQUIRE(eventually([&] { return openings_received(rx) == 2; }));
  CHECK(steady::now() - added < 1500ms);
  // Once reads work again (the next one comes a poll interval after the
  // last failure), the check is back: another opening is inhibited.
  {
    std::lock_guard<std::mutex> guard{m->mtx};
    m->failing_source_reads = 0;
  }
  std::this_thread::sleep_for(500ms);
  auto again =
      of_class("disk", "disk-2", notification_kind::parent_opened, "disks");
  box->add("payments", again);
  w->poke();
  REQUIRE(eventually([&] { return rows(*box, "suppressed").size() == 1; }));
  CHECK(rows(*box, "suppressed")[0].last_error == "inhibited by outage-1");
  // A new failure starts a whole new wait.
  {
    std::lock_guard<std::mutex> guard{m->mtx};
    m->failing_source_reads = -1;
  }
  auto third =
      of_class("disk", "disk-3", notification_kind::parent_opened, "disks");
  box->add("payments", third);
  w->poke();
  std::this_thread::sleep_for(300ms);
  CHECK(box->unfanned(10)->size() == 1);
  CHECK(openings_received(rx) == 2);
  REQUIRE(eventually([&] { return openings_received(rx) == 3; }));
}
