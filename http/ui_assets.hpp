#pragma once

#include <cstddef>
#include <string_view>

/// The web console's static files, embedded at build time from ui/ by
/// cmake/embed_ui.cmake (the generated ui_assets.cpp defines them).
namespace argus::http::ui {

/// One embedded file: its name under /ui/, content type and bytes.
struct asset {
  std::string_view name;
  std::string_view type;
  std::string_view body;
};

extern const asset assets[];
extern const size_t asset_count;
/// The sum of the files' sizes, in bytes.
extern const size_t total_bytes;

} // namespace argus::http::ui
