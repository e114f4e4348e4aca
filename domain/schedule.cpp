// The one source file that includes date/tz.h: CMake compiles it alone with
// USE_OS_TZDB=1, so the library reads the system's /usr/share/zoneinfo.
#include "domain/schedule.hpp"

#include "domain/catalog.hpp"
#include "domain/cron.hpp"
#include "domain/error.hpp"

#include <date/tz.h>

#include <algorithm>
#include <charconv>

namespace argus::domain {

namespace {

using std::chrono::minutes;

constexpr const char* day_names[] = {"sun", "mon", "tue", "wed",
                                     "thu", "fri", "sat"};

/// Four years of days: the farthest `next_occurrences` looks.
constexpr int max_days_ahead = 4 * 366;

const date::time_zone* zone_of(const std::string& name) {
  try {
    return date::locate_zone(name);
  } catch (const std::exception&) {
    return nullptr;
  }
}

/// "HH:MM" as minutes after midnight.
std::optional<int> minutes_of(const std::string& text) {
  if (text.size() != 5 || text[2] != ':')
    return std::nullopt;
  int h = 0;
  int m = 0;
  auto digits = [](const char* p, int& out) {
    auto [end, err] = std::from_chars(p, p + 2, out);
    return err == std::errc{} && end == p + 2;
  };
  if (!digits(text.data(), h) || !digits(text.data() + 3, m) || h > 23 ||
      m > 59)
    return std::nullopt;
  return h * 60 + m;
}

int day_index(const std::string& name) {
  for (int i = 0; i < 7; ++i)
    if (name == day_names[i])
      return i;
  return -1;
}

/// The start times of a schedule as a cron spec: the days form is the cron
/// expression "M H * * days".
std::optional<cron_spec> spec_of(const schedule& s) {
  if (!s.cron.empty()) {
    auto spec = parse_cron(s.cron);
    if (!spec)
      return std::nullopt;
    return *spec;
  }
  auto at = minutes_of(s.start);
  if (!at)
    return std::nullopt;
  cron_spec spec;
  spec.minutes.set(static_cast<size_t>(*at % 60));
  spec.hours.set(static_cast<size_t>(*at / 60));
  for (unsigned d = 1; d <= 31; ++d)
    spec.days_of_month.set(d);
  for (unsigned m = 1; m <= 12; ++m)
    spec.months.set(m);
  for (auto& name : s.days)
    if (auto i = day_index(name); i >= 0)
      spec.days_of_week.set(static_cast<size_t>(i));
  spec.dow_restricted = true;
  return spec;
}

/// A schedule ready to compute with.
struct compiled {
  const date::time_zone* zone = nullptr;
  cron_spec spec;
  duration length{};
};

std::optional<compiled> compile(const schedule& s) {
  if (s.empty() || s.duration_seconds <= 0)
    return std::nullopt;
  auto zone = zone_of(s.time_zone);
  auto spec = spec_of(s);
  if (!zone || !spec)
    return std::nullopt;
  return compiled{zone, *spec, std::chrono::seconds{s.duration_seconds}};
}

bool day_fires(const cron_spec& spec, date::local_days day) {
  date::year_month_day ymd{day};
  date::weekday wd{day};
  return spec.day_matches(static_cast<unsigned>(ymd.month()),
                          static_cast<unsigned>(ymd.day()), wd.c_encoding());
}

/// The instant a local start time stands for: the first valid instant when
/// it falls in a gap, the earlier one when it happens twice (the library's
/// `choose::earliest` does both).
time_point instant_of(const date::time_zone* zone,
                      date::local_time<minutes> local) {
  auto sys = zone->to_sys(local, date::choose::earliest);
  return time_point{
      std::chrono::duration_cast<duration>(sys.time_since_epoch())};
}

date::local_days local_day_of(const date::time_zone* zone, time_point t) {
  auto sys = date::sys_time<minutes>{
      std::chrono::floor<minutes>(t.time_since_epoch())};
  return std::chrono::floor<date::days>(zone->to_local(sys));
}

} // namespace

caf::error validate(schedule& s, const std::string& field) {
  auto fail = [&](const std::string& name, const std::string& what) {
    return make_error(ec::validation_failed,
                      "field '" + field + "." + name + "' " + what);
  };
  if (s.time_zone.empty())
    return fail("time_zone", "is required");
  if (!zone_of(s.time_zone))
    return fail("time_zone",
                "names no time zone of the tz database: '" + s.time_zone + "'");
  if (!s.cron.empty()) {
    if (!s.days.empty() || !s.start.empty())
      return make_error(ec::validation_failed,
                        "field '" + field +
                            "' takes either 'cron' or 'days' and 'start'");
    if (auto spec = parse_cron(s.cron, field + ".cron"); !spec)
      return spec.error();
  } else {
    if (s.days.empty())
      return fail("days", "needs at least one day (or give 'cron')");
    for (size_t i = 0; i < s.days.size(); ++i) {
      auto& d = s.days[i];
      std::transform(d.begin(), d.end(), d.begin(), [](unsigned char c) {
        return static_cast<char>(std::tolower(c));
      });
      if (d.size() > 3 && day_index(d.substr(0, 3)) >= 0)
        d = d.substr(0, 3); // "sunday" -> "sun"
      if (day_index(d) < 0)
        return fail("days[" + std::to_string(i) + "]",
                    "must be one of sun, mon, tue, wed, thu, fri, sat");
    }
    if (s.start.empty())
      return fail("start", "is required (\"HH:MM\")");
    if (!minutes_of(s.start))
      return fail("start", "must be a local time \"HH:MM\" (00:00-23:59)");
  }
  if (s.duration_seconds <= 0 ||
      s.duration_seconds > max_schedule_duration_seconds)
    return fail("duration_seconds",
                "must be between 1 and " +
                    std::to_string(max_schedule_duration_seconds));
  return {};
}

std::optional<occurrence> occurrence_at(const schedule& s, time_point now) {
  auto c = compile(s);
  if (!c)
    return std::nullopt;
  auto today = local_day_of(c->zone, now);
  // The latest start at or before now decides: an earlier one ended before
  // it did. Starts older than the duration (plus a day of offsets) cannot
  // reach now.
  auto days_back = s.duration_seconds / 86400 + 2;
  for (int64_t back = 0; back <= days_back; ++back) {
    auto day = today - date::days{back};
    if (!day_fires(c->spec, day))
      continue;
    for (int h = 23; h >= 0; --h) {
      if (!c->spec.hours.test(static_cast<size_t>(h)))
        continue;
      for (int m = 59; m >= 0; --m) {
        if (!c->spec.minutes.test(static_cast<size_t>(m)))
          continue;
        auto start =
            instant_of(c->zone, date::local_time<minutes>{
                                    day + std::chrono::hours{h} + minutes{m}});
        if (start > now)
          continue;
        auto end = start + c->length;
        if (end > now)
          return occurrence{start, end};
        return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

std::vector<occurrence> next_occurrences(const schedule& s, time_point now,
                                         size_t n, time_point until) {
  std::vector<occurrence> out;
  auto c = compile(s);
  if (!c || n == 0)
    return out;
  auto first = local_day_of(c->zone, now);
  auto last = now;
  for (int ahead = 0; ahead <= max_days_ahead; ++ahead) {
    auto day = first + date::days{ahead};
    if (!day_fires(c->spec, day))
      continue;
    for (int h = 0; h < 24; ++h) {
      if (!c->spec.hours.test(static_cast<size_t>(h)))
        continue;
      for (int m = 0; m < 60; ++m) {
        if (!c->spec.minutes.test(static_cast<size_t>(m)))
          continue;
        auto start =
            instant_of(c->zone, date::local_time<minutes>{
                                    day + std::chrono::hours{h} + minutes{m}});
        // Start times in a gap all move to its end: that instant once.
        if (start <= last)
          continue;
        if (until != no_time && start >= until)
          return out;
        out.push_back(occurrence{start, start + c->length});
        last = start;
        if (out.size() == n)
          return out;
      }
    }
  }
  return out;
}

std::string encode_schedule(const schedule& s) {
  if (s.empty())
    return {};
  return encode_keys({s.time_zone, encode_keys(s.days), s.start, s.cron,
                      std::to_string(s.duration_seconds)});
}

std::optional<schedule> decode_schedule(std::string_view text) {
  if (text.empty())
    return schedule{};
  auto lines = decode_keys(text);
  if (lines.size() != 5 || lines[0].empty())
    return std::nullopt;
  schedule s;
  s.time_zone = lines[0];
  s.days = decode_keys(lines[1]);
  s.start = lines[2];
  s.cron = lines[3];
  auto& d = lines[4];
  auto [end, err] =
      std::from_chars(d.data(), d.data() + d.size(), s.duration_seconds);
  if (err != std::errc{} || end != d.data() + d.size())
    return std::nullopt;
  return s;
}

} // namespace argus::domain
