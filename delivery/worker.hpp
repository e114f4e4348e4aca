#pragma once

#include "delivery/outbox.hpp"
#include "delivery/sender.hpp"
#include "domain/delivery.hpp"
#include "domain/dispatch.hpp"
#include "domain/inhibition.hpp"
#include "domain/notification.hpp"
#include "domain/receiver.hpp"
#include "http/active_alerts.hpp"

#include <atomic>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

namespace argus::delivery {

struct worker_settings {
  domain::retry_policy retry;
  domain::breaker_policy breaker;
  domain::dispatch_limits limits;
  /// The outbox is read at least this often (other writers, missed pokes).
  std::chrono::milliseconds poll_interval{1000};
  /// Pending deliveries held in memory at once; the rest wait on disk.
  size_t batch = 1000;
  /// How long a manager's notifications wait while its inhibition sources
  /// cannot be read (a store error): they stay in the outbox, in order,
  /// and the read is tried again a poll interval after the last one ended.
  /// Past it they go out unchecked, as a page that should have been
  /// inhibited beats none while the store stays down. A silenced one never
  /// waits (it is held, and its release checks inhibition).
  std::chrono::milliseconds unchecked_wait{30000};
  /// Argus's base URL for links in bodies (may be empty).
  std::string external_url;
  /// Called on the worker's thread when a delivery ends delivered or
  /// failed (e.g. to count outcomes in /metrics); may be empty.
  std::function<void(const domain::delivery&)> on_settled;
};

/// What the catalog says about a manager at send time.
struct manager_view {
  std::string name;
  /// Its receivers, the legacy webhook_url included.
  std::vector<domain::receiver> receivers;
  /// The active silences that match a parent now (sorted ids; none: send).
  /// Unset: nothing is silenced.
  std::function<std::vector<std::string>(const domain::alert& parent)>
      silenced_by{};
  /// When the silences `silenced_by` named all stop muting (their ends,
  /// or their occurrences' ends): a held opening is looked at then, not
  /// only at the looks' own pace. Unset: at their pace only.
  std::function<domain::time_point(const std::vector<std::string>& silences)>
      silenced_until{};
  /// The manager's inhibit rules (the sources come from `alert_access`).
  std::vector<domain::inhibit_rule> inhibit_rules{};
};

/// How the worker reads alerts as they are now and adds notifications, for
/// inhibition and for releasing held openings. Called from the worker's
/// thread; they may block briefly (a read of the store). Unset: no
/// inhibition, and held openings are never released.
struct alert_access {
  /// Every active alert of the manager now (`domain::every_active_alert_of`).
  std::function<caf::expected<std::vector<domain::alert>>(
      const std::string& manager_id)>
      active;
  /// The active alerts of the manager now that may inhibit others under
  /// `rules` (`active_alerts::may_inhibit`): all a fan-out needs, and
  /// mostly a few of many. Unset: fan-outs read `active`.
  std::function<caf::expected<std::vector<domain::alert>>(
      const std::string& manager_id,
      const std::vector<domain::inhibit_rule>& rules)>
      sources;
  /// Adds a notification to the outbox (a repeat of a stored id is
  /// skipped); the worker then fans it out like any other.
  std::function<void(domain::notification)> add;
  /// What mutes alerts now (the catalog's snapshot), compared by identity:
  /// when it changed since the last look at the held openings (a silence
  /// was expired or deleted, a rule changed), the next look comes within a
  /// poll interval, however costly looks have become. Unset: looks come at
  /// their own pace only.
  std::function<std::shared_ptr<const void>()> muting;
};

/// Drains the outbox on a thread of its own: fans stored notifications out
/// to their manager's receivers, picks what may be sent (order per receiver
/// and group, circuit breakers, limits), sends through a `sender`, and
/// stores each outcome. Nothing here runs on an actor's thread, so a slow
/// or dead receiver holds up neither ingestion nor the scheduler; the
/// outbox on disk, not memory, absorbs a long outage.
class worker {
public:
  using lookup_fn =
      std::function<std::optional<manager_view>(const std::string& manager_id)>;
  using clock_fn = std::function<domain::time_point()>;
  using jitter_fn = std::function<double()>;

  /// `store` is used from the worker's thread only (or is thread-safe, as
  /// `memory_outbox`). `lookup` is called from
  /// it too and must be thread-safe (e.g. read a published snapshot).
  worker(std::shared_ptr<outbox> store, worker_settings settings,
         lookup_fn lookup, clock_fn now = {}, jitter_fn jitter = {},
         alert_access alerts = {});
  ~worker();

  worker(const worker&) = delete;
  worker& operator=(const worker&) = delete;

  /// New notifications were stored: read the outbox soon.
  void poke();

  /// Alerts were stored (called on the repository's thread after each
  /// write): when one that resolved may be an inhibition source, the look
  /// at held openings comes within a poll interval. The repository sees
  /// every resolution, a child's too, which no notification announces.
  /// While nothing is held it costs the read of a flag.
  void stored(const std::vector<domain::alert_write>& writes);

  /// Runs `job` on the worker's thread with the outbox (reads and manual
  /// retries of the API); `job` must not block.
  void post(std::function<void(outbox&)> job);

  /// A manual retry of a failed delivery (all failed ones of the
  /// notification when `receiver` is empty); answers on the worker's thread.
  void retry(std::string notification_id, std::string receiver,
             std::function<void(caf::error)> done);

  /// Stops sending; pending deliveries stay in the outbox.
  void stop();

  uint64_t delivered() const { return delivered_.load(); }
  uint64_t failed() const { return failed_.load(); }
  uint64_t attempts() const { return attempts_.load(); }

private:
  struct in_flight {
    domain::delivery row;
    int64_t timeout_ms = 0;
  };

  /// An opening that was suppressed (silenced or inhibited) and is not
  /// released yet, held under (manager, parent dedupKey).
  struct held_opening {
    std::string notification_id;
    /// The parent's id: a later alert with its dedupKey is another one.
    domain::alert_id alert_id;
  };
  using held_key = std::pair<std::string, std::string>;
  /// The active alerts of the managers one fan-out or review looks at, each
  /// read at its first use. A review reads every active alert (it finds
  /// held parents and counts children); a fan-out only decides inhibition,
  /// so it reads the sources alone when `alert_access::sources` is set, and
  /// then only `inhibitors_of` may be asked of what it holds.
  struct active_round {
    bool sources_only = false;
    std::map<std::string, std::unique_ptr<const http::active_alerts>> managers;
    /// Managers whose read failed (or waits for its retry) in this round:
    /// not read again in it.
    std::set<std::string> failed;
  };
  /// A manager whose inhibition sources the fan-outs could not read. Timed
  /// on the steady clock: a step of the system clock must neither stall
  /// the reads nor cut the wait short.
  struct unchecked_streak {
    using clock = std::chrono::steady_clock;
    /// The first failure of the streak.
    clock::time_point since{};
    /// The end of the last failed read; the next comes a poll interval
    /// after it, however often the worker is poked and however long the
    /// read took.
    clock::time_point last_failure{};
    /// Whether the log said its notifications go out unchecked.
    bool told = false;
  };

  void run();
  void run_jobs();
  /// More waits on disk and the deliveries in memory run low: read again
  /// now.
  bool more_to_read() const;
  /// Rebuilds `held_` from the suppressed openings in the outbox (start).
  void load_held();
  /// Releases each held opening whose parent is still active and no longer
  /// muted: one opening notification with the id `<held id>-released`.
  /// Drops those whose parent resolved or is gone.
  void review(domain::time_point now);
  /// Keeps the earliest time at which an opening held by `silences` alone
  /// (no inhibitors, whose sources resolve at no known time) may go out.
  void note_held_until(const manager_view& view,
                       const std::vector<std::string>& silences,
                       const std::vector<std::string>& inhibitors,
                       domain::time_point now);
  /// Why a parent must not notify now: its silences and inhibitors.
  /// `unchecked` is set when the inhibition sources could not be read.
  std::vector<std::string> muted_by(const manager_view& view,
                                    const domain::alert& parent,
                                    active_round& active,
                                    std::vector<std::string>& inhibitors,
                                    bool& unchecked);
  /// Whether a notification of `manager` whose inhibition could not be
  /// checked waits for a later fan-out (`worker_settings::unchecked_wait`).
  bool wait_unchecked(const std::string& manager);
  /// Ends the streaks of managers whose reads stopped failing long ago.
  void forget_past_streaks();
  /// The active alerts of `manager` in `round`, read now if they are not
  /// there yet; null when the read failed (or, in a fan-out, when the last
  /// one failed less than a poll interval ago).
  const http::active_alerts* active_of(const std::string& manager,
                                       const manager_view& view,
                                       active_round& round);
  /// Sets `source_resolved_` when one of the `resolved` alerts matches an
  /// inhibit rule's source matchers while openings are held.
  void note_resolved(const std::vector<domain::alert_ptr>& resolved);
  void fan_out(domain::time_point now);
  void reload();
  void expire_waiting(domain::time_point now);
  void dispatch(domain::time_point now);
  void send(const domain::delivery& d, domain::time_point now);
  void complete(uint64_t token, const domain::attempt_result& r,
                domain::time_point now);
  void store_row(const domain::delivery& d);
  void settled(const domain::delivery& d);
  std::optional<domain::receiver> receiver_of(const domain::delivery& d,
                                              std::string& manager_name);

  std::shared_ptr<outbox> store_;
  worker_settings settings_;
  lookup_fn lookup_;
  clock_fn now_;
  jitter_fn jitter_;
  alert_access alerts_;

  std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool dirty_ = true;
  std::vector<std::function<void(outbox&)>> jobs_;
  std::vector<std::pair<uint64_t, domain::attempt_result>> done_;
  /// Alerts stored as resolved while openings were held, not looked at
  /// yet; past `max_resolved` only `resolved_overflow_` is set, which
  /// brings the look forward whatever they were.
  std::vector<domain::alert_ptr> resolved_;
  bool resolved_overflow_ = false;
  static constexpr size_t max_resolved = 1024;
  /// Whether `held_` holds openings, for the repository's thread.
  std::atomic<bool> holding_{false};

  // Owned by the worker's thread.
  std::vector<domain::delivery> pending_;
  /// The last read found as many rows as it asked for: more wait on disk.
  bool backlog_ = false;
  domain::dispatch_state dispatch_;
  std::map<uint64_t, in_flight> in_flight_;
  std::map<std::string, domain::rate_window> child_rates_;
  uint64_t next_token_ = 1;
  /// Held openings by (manager, parent dedupKey): at most one per parent,
  /// as a newer opening replaces one still held.
  std::map<held_key, held_opening> held_;
  bool held_loaded_ = false;
  /// An alert that may have held openings back (an inhibition source)
  /// resolved since the last look: look again soon.
  bool source_resolved_ = false;
  /// The earliest end of the silences that alone hold an opening (as
  /// seen at the last look and fan-outs since); `never`: none.
  static constexpr domain::time_point never = domain::time_point::max();
  domain::time_point held_until_ = never;
  /// Managers whose sources' read failed, until one works, or none failed
  /// for `unchecked_wait` (and two poll intervals): a later failure is
  /// then another outage, with a wait of its own.
  std::map<std::string, unchecked_streak> unchecked_;

  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> failed_{0};
  std::atomic<uint64_t> attempts_{0};

  std::unique_ptr<sender> sender_;
  std::thread thread_;
};

} // namespace argus::delivery
