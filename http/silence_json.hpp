#pragma once

#include "domain/alert.hpp"
#include "domain/inhibition.hpp"
#include "domain/silence.hpp"

#include <caf/expected.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

/// The JSON forms of silences: Argus's (`/v1/silences`, argusctl) and
/// Alertmanager's (`postableSilence`, `gettableSilence`, for amtool).
namespace argus::http {

/// Parses a silence body. Over `base` (PUT), fields not given keep their
/// value; otherwise `matchers`, `endsAt`, `createdBy` and `comment` are
/// required, and `startsAt` defaults to `now`. Wrong types are 400s naming
/// the field; `validate` then checks the values.
caf::expected<domain::silence> parse_silence(const nlohmann::json& j,
                                             const domain::silence* base,
                                             domain::time_point now);

/// Argus's form: the fields, `state` at `now`, `event_manager_id` (null for
/// every manager).
nlohmann::json to_json(const domain::silence& s, domain::time_point now);

/// Alertmanager's `postableSilence` (an `id` replaces that silence) for
/// manager `manager_id`: the silence covers that manager only.
caf::expected<domain::silence> parse_am_silence(const nlohmann::json& j,
                                                const std::string& manager_id);

/// Alertmanager's `gettableSilence`.
nlohmann::json to_gettable_silence(const domain::silence& s,
                                   domain::time_point now);

/// The ids of the silences in `all` active at `now` that match `a` (its
/// details parsed for label and field matchers), sorted.
std::vector<std::string>
silenced_by(const std::map<std::string, domain::silence>& all,
            const domain::alert& a, domain::time_point now);

/// Whether a silence of `all` active at `now` matches `a` (`silenced_by`
/// not empty), without reading further once one does.
bool is_silenced(const std::map<std::string, domain::silence>& all,
                 const domain::alert& a, domain::time_point now);

/// A manager's `inhibit_rules`: an array of `{source_matchers,
/// target_matchers, equal}`, the matchers in the silences' shape. Wrong
/// types are 400s naming the field (`inhibit_rules[0].equal[1]`).
caf::expected<std::vector<domain::inhibit_rule>>
parse_inhibit_rules(const nlohmann::json& j);

nlohmann::json to_json(const std::vector<domain::inhibit_rule>& rules);

/// A reader of `a`'s details by field name, as grouping reads them (for
/// label and field matchers); details that are not a JSON object read as
/// an empty one. They are parsed at the first read, from `a`: the reader
/// must not outlive it.
domain::details_reader details_reader_of(const domain::alert& a);

} // namespace argus::http
