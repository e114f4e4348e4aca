#pragma once

#include "domain/alertmanager.hpp"

#include <optional>
#include <string_view>
#include <vector>

/// Reads a `postableAlerts` body (Alertmanager's `POST /api/v2/alerts`)
/// straight into postable alerts, without building a JSON DOM: simdjson's
/// On-Demand API walks the body and copies out the labels, annotations,
/// times and generatorURL. It decides only what it is sure of: a body
/// with anything unusual (invalid JSON, a root that is not an array, an
/// element that is not an object, a field of the wrong type or given
/// twice, a time it cannot read) is left to the DOM path
/// (`parse_postable_alert` per element), which words every error.
namespace argus::http {

/// Every alert of `body` as `parse_postable_alert` reads it, in order; none
/// when the DOM path must decide.
std::optional<std::vector<domain::postable_alert>>
read_postable_alerts(std::string_view body);

} // namespace argus::http
