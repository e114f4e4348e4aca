#pragma once

#include "domain/alert.hpp"
#include "domain/alertmanager.hpp"
#include "domain/labels.hpp"
#include "domain/silence.hpp"
#include "http/am_details_reader.hpp"

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

/// The JSON of Alertmanager's API v2 (api/v2/openapi.yaml of
/// prometheus/alertmanager): postable alerts in, gettable alerts and the
/// status out. Like http/json.cpp, the only place this JSON meets the domain.
namespace argus::http {

/// Parses one element of a `postableAlerts` body: `labels` (an object of
/// strings, required), `annotations` (likewise, optional), `startsAt` and
/// `endsAt` (RFC 3339, optional) and `generatorURL` (optional).
caf::expected<domain::postable_alert>
parse_postable_alert(const nlohmann::json& j);

/// The `details` an Alertmanager alert keeps, as JSON text: its labels
/// (without empty values), annotations, effective `startsAt`/`endsAt` and
/// `generatorURL`, in the order and form nlohmann-json dumps them.
/// `GET /api/v2/alerts` answers from them.
std::string am_details_text(const domain::postable_alert& posted,
                            const domain::am_alert& admitted);

/// The grouping text of field `key` of the alert as a grouping rule sees
/// it: the details above with the event's standard fields (`summary`,
/// `severity`, `dedupKey`) beside them at the top level, so a rule on
/// `labels.cluster` or `annotations.team` groups Alertmanager alerts. The
/// same answer `grouping_text` gives on that object, without building it.
std::optional<std::string> am_field(const domain::postable_alert& posted,
                                    const domain::am_alert& admitted,
                                    const std::string& key);

/// What a listing of the Alertmanager API reads of an alert's details:
/// what it filters on, and what it writes of the alerts it lists.
struct am_details {
  /// The labels and `endsAt`, and with `am_parts::both` what a listed
  /// alert's text takes, read without a DOM when simdjson reads the
  /// details (a listing reads them for every alert of its manager, and may
  /// list few); else the labels and `endsAt` from a DOM. The labels are
  /// empty for alerts other fronts took.
  am_fields fields;
  /// `endsAt` as a time (`no_time` if none).
  domain::time_point ends_at = domain::no_time;
  /// The parts `fields` hold as walked; none when they came from a DOM,
  /// and a listed alert is written from one too.
  std::optional<am_parts> walked;
};

/// The `parts` of the details of `a` (`filter` or `both`) as a listing
/// reads them; `walked` tells which parts it could.
am_details am_details_of(const domain::alert& a,
                         am_parts parts = am_parts::filter);

/// A reader of the details of `a` by field name (for silence matchers),
/// answering as `details_reader_of` does: from `details` what they tell
/// for sure (a root member the details lack; a label, or its absence,
/// with `labels` exact), else by reading the details. A listing with a
/// silence on a label walked each alert's details twice more (the name,
/// then `labels.<name>`). Neither `a` nor `details` may be outlived.
domain::details_reader am_details_reader(const domain::alert& a,
                                         const am_details& details);

/// An active alert as Alertmanager's `gettableAlert`: `labels`,
/// annotations, times, `fingerprint` (its dedupKey), `receivers` (its
/// manager), and status `active`, or `suppressed` by the silences
/// `silenced_by` names.
nlohmann::json to_gettable_alert(const domain::alert& a,
                                 const domain::label_set& labels,
                                 const std::vector<std::string>& silenced_by);

/// Appends `to_gettable_alert(a, details.fields.labels, silenced_by)`'s
/// compact dump to `out`, byte for byte for details that are JSON (stored
/// details are JSON Argus wrote), written without a DOM when they were
/// walked (a listing's DOMs and their dumps were most of its CPU): from
/// `details` when they hold both parts, else from a walk of the listing
/// part.
void append_gettable_alert_text(std::string& out, const domain::alert& a,
                                const am_details& details,
                                const std::vector<std::string>& silenced_by);

/// What `GET /api/v2/status` reports of this node.
struct am_node_status {
  std::string version;
  domain::time_point started{};
  /// `config.original`: a text describing the manager (Alertmanager shows
  /// its YAML config there; amtool only prints it).
  std::string config_text;
  /// Set when clustered: this node's id and whether it has settled.
  std::string node_id;
  bool settled = true;
};

/// Alertmanager's `alertmanagerStatus`: `versionInfo` (Argus's version;
/// amtool warns that it differs from its own and carries on), `config`,
/// `uptime` (when the node started) and `cluster` (`disabled` on one node,
/// `ready` or `settling` in a cluster).
nlohmann::json to_am_status(const am_node_status& s);

/// Parses a manager's severity mapping: `severity_map` (label value ->
/// high|medium|low; replaces the defaults when given) and
/// `default_severity`, over `base`.
caf::expected<domain::severity_mapping>
parse_severity_mapping(const nlohmann::json& j,
                       domain::severity_mapping base = {});

nlohmann::json to_json(const domain::severity_mapping& m);

} // namespace argus::http
