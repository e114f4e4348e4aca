#pragma once

#include <sstream>
#include <string>

/// A small thread-safe logger: one line per record on stderr, with a level.
namespace argus::log {

enum class level { debug = 0, info = 1, warning = 2, error = 3 };

/// Sets the lowest level that is written; accepts the config spellings.
void set_level(const std::string& name);
bool enabled(level lvl);
void write(level lvl, const std::string& line);

} // namespace argus::log

#define ARGUS_LOG(lvl, expr)                                                   \
  do {                                                                         \
    if (::argus::log::enabled(lvl)) {                                          \
      std::ostringstream argus_log_stream_;                                    \
      argus_log_stream_ << expr;                                               \
      ::argus::log::write(lvl, argus_log_stream_.str());                       \
    }                                                                          \
  } while (false)

#define LOG_DEBUG(expr) ARGUS_LOG(::argus::log::level::debug, expr)
#define LOG_INFO(expr) ARGUS_LOG(::argus::log::level::info, expr)
#define LOG_WARNING(expr) ARGUS_LOG(::argus::log::level::warning, expr)
#define LOG_ERROR(expr) ARGUS_LOG(::argus::log::level::error, expr)
