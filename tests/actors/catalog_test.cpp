// The catalog actor: rules and event managers are validated, persisted
// through the repository, and published as an immutable snapshot.

#include "fixture.hpp"

#include <cctype>

namespace {

using namespace std::chrono_literals;

using argus::code_of;
using argus::ec;
using argus::message_of;
using argus::atom::create;
using argus::atom::erase;
using argus::atom::manager;
using argus::atom::ok;
using argus::atom::rule;
using argus::atom::update;
using argus::domain::event_manager;
using argus::domain::grouping_rule;

struct fixture : argus::test::actor_fixture {
  std::shared_ptr<argus::actors::catalog_view> view =
      std::make_shared<argus::actors::catalog_view>();
  argus::actors::catalog_actor catalog;

  fixture() {
    catalog = spawn(argus::actors::catalog, argus::domain::catalog{}, repo,
                    view, context());
    sched->run();
  }

  grouping_rule new_rule(const std::string& name = "by host") {
    grouping_rule r;
    r.name = name;
    r.grouping_key = "host";
    r.time_window_seconds = 300;
    return r;
  }

  event_manager new_manager(const std::string& rule_id,
                            const std::string& id = "") {
    event_manager m;
    m.id = id;
    m.name = "payments";
    m.description = "the payments team";
    m.grouping_rule_id = rule_id;
    m.webhook_url = "https://example.com/hook";
    return m;
  }

  /// What the store holds now.
  argus::domain::catalog stored() {
    auto c = store->load_catalog();
    REQUIRE(c);
    return *c;
  }
};

bool looks_like_uuid(const std::string& id) {
  if (id.size() != 36)
    return false;
  for (size_t i = 0; i < id.size(); ++i) {
    bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    bool ok = dash ? id[i] == '-'
                   : std::isxdigit(static_cast<unsigned char>(id[i])) != 0;
    if (!ok)
      return false;
  }
  // Version 4 (random) with the RFC 4122 variant.
  return id[14] == '4' && std::string{"89ab"}.find(id[19]) != std::string::npos;
}

} // namespace

TEST_CASE_METHOD(fixture, "the catalog starts from its initial snapshot",
                 "[actors]") {
  auto snapshot = view->get();
  REQUIRE(snapshot != nullptr);
  CHECK(snapshot->rules.empty());
  CHECK(snapshot->managers.empty());

  SECTION("a non-empty initial catalog is published at once") {
    argus::domain::catalog initial;
    auto r = new_rule();
    r.id = "r0";
    initial.rules["r0"] = r;
    auto other_view = std::make_shared<argus::actors::catalog_view>();
    spawn(argus::actors::catalog, initial, repo, other_view, context());
    sched->run();
    REQUIRE(other_view->get()->rules.count("r0") == 1);
    CHECK(other_view->get()->rules.at("r0").name == "by host");
  }
}

TEST_CASE_METHOD(fixture, "rules are created, updated and deleted",
                 "[actors]") {
  auto t0 = now();
  auto before = view->get();
  auto r = ask<grouping_rule>(catalog, create::value, new_rule());
  CHECK(looks_like_uuid(r.id));
  CHECK(r.name == "by host");
  CHECK(r.grouping_key == "host");
  CHECK(r.time_window_seconds == 300);
  CHECK(r.created_at == t0);
  CHECK(r.updated_at == t0);
  // A new snapshot was published; the old one did not change under readers.
  auto after = view->get();
  CHECK(after != before);
  CHECK(before->rules.empty());
  REQUIRE(after->rules.count(r.id) == 1);
  CHECK(after->rules.at(r.id).name == "by host");
  REQUIRE(stored().rules.count(r.id) == 1);
  CHECK(stored().rules.at(r.id).time_window_seconds == 300);

  // Ids are generated, even when the client sends one.
  auto second = new_rule("second");
  second.id = "chosen-by-client";
  auto r2 = ask<grouping_rule>(catalog, create::value, second);
  CHECK(r2.id != "chosen-by-client");
  CHECK(r2.id != r.id);
  CHECK(view->get()->rules.size() == 2);

  advance(1min);
  auto changed = r;
  changed.name = "by service";
  changed.grouping_key = "service";
  changed.time_window_seconds = 60;
  changed.created_at = {}; // ignored: the catalog keeps the original
  auto u = ask<grouping_rule>(catalog, update::value, changed);
  CHECK(u.id == r.id);
  CHECK(u.name == "by service");
  CHECK(u.grouping_key == "service");
  CHECK(u.time_window_seconds == 60);
  CHECK(u.created_at == t0);
  CHECK(u.updated_at == t0 + 1min);
  CHECK(view->get()->rules.at(r.id).grouping_key == "service");
  CHECK(stored().rules.at(r.id).name == "by service");
  CHECK(after->rules.at(r.id).name == "by host");

  CHECK(ask<ok>(catalog, erase::value, rule::value, r.id) == ok::value);
  CHECK(view->get()->rules.count(r.id) == 0);
  CHECK(view->get()->rules.size() == 1);
  CHECK(stored().rules.count(r.id) == 0);
}

TEST_CASE_METHOD(fixture, "invalid or unknown rules are refused", "[actors]") {
  auto snapshot = view->get();
  SECTION("invalid window") {
    auto bad = new_rule();
    bad.time_window_seconds = 0;
    auto err = ask_error<grouping_rule>(catalog, create::value, bad);
    CHECK(code_of(err) == ec::validation_failed);
    CHECK_THAT(message_of(err), Catch::Contains("time window"));
  }
  SECTION("empty grouping key") {
    auto bad = new_rule();
    bad.grouping_key.clear();
    auto err = ask_error<grouping_rule>(catalog, create::value, bad);
    CHECK(code_of(err) == ec::validation_failed);
    CHECK_THAT(message_of(err), Catch::Contains("grouping_key"));
  }
  SECTION("update of a missing rule") {
    auto missing = new_rule();
    missing.id = "nope";
    auto err = ask_error<grouping_rule>(catalog, update::value, missing);
    CHECK(code_of(err) == ec::not_found);
    CHECK_THAT(message_of(err), Catch::Contains("nope"));
  }
  SECTION("invalid update of an existing rule") {
    auto r = ask<grouping_rule>(catalog, create::value, new_rule());
    snapshot = view->get();
    auto bad = r;
    bad.name.clear();
    auto err = ask_error<grouping_rule>(catalog, update::value, bad);
    CHECK(code_of(err) == ec::validation_failed);
    CHECK(view->get()->rules.at(r.id).name == "by host");
  }
  SECTION("delete of a missing rule") {
    auto err =
        ask_error<ok>(catalog, erase::value, rule::value, std::string{"nope"});
    CHECK(code_of(err) == ec::not_found);
  }
  // Nothing was published.
  CHECK(view->get() == snapshot);
}

TEST_CASE_METHOD(fixture, "managers are created, updated and deleted",
                 "[actors]") {
  auto t0 = now();
  auto r = ask<grouping_rule>(catalog, create::value, new_rule());
  auto m = ask<event_manager>(catalog, create::value, new_manager(r.id));
  CHECK(looks_like_uuid(m.id));
  CHECK(m.name == "payments");
  CHECK(m.grouping_rule_id == r.id);
  CHECK(m.webhook_url == "https://example.com/hook");
  CHECK(m.created_at == t0);
  REQUIRE(view->get()->managers.count(m.id) == 1);
  CHECK(view->get()->rule_of(m.id) != nullptr);
  CHECK(view->get()->rule_of(m.id)->id == r.id);
  CHECK(stored().managers.count(m.id) == 1);

  // A client may choose a manager's id.
  auto named =
      ask<event_manager>(catalog, create::value, new_manager(r.id, "team-a"));
  CHECK(named.id == "team-a");
  auto dup = ask_error<event_manager>(catalog, create::value,
                                      new_manager(r.id, "team-a"));
  CHECK(code_of(dup) == ec::conflict);

  advance(1min);
  auto r2 = ask<grouping_rule>(catalog, create::value, new_rule("other"));
  auto changed = m;
  changed.name = "billing";
  changed.grouping_rule_id = r2.id;
  auto u = ask<event_manager>(catalog, update::value, changed);
  CHECK(u.name == "billing");
  CHECK(u.created_at == t0);
  CHECK(u.updated_at == t0 + 1min);
  CHECK(view->get()->rule_of(m.id)->id == r2.id);
  CHECK(stored().managers.at(m.id).name == "billing");

  // Rules in use cannot go; once unused they can.
  auto in_use = ask_error<ok>(catalog, erase::value, rule::value, r2.id);
  CHECK(code_of(in_use) == ec::conflict);
  CHECK_THAT(message_of(in_use), Catch::Contains(r2.id));
  CHECK(view->get()->rules.count(r2.id) == 1);
  CHECK(ask<ok>(catalog, erase::value, manager::value, m.id) == ok::value);
  CHECK(view->get()->managers.count(m.id) == 0);
  CHECK(stored().managers.count(m.id) == 0);
  CHECK(ask<ok>(catalog, erase::value, rule::value, r2.id) == ok::value);
  CHECK(view->get()->rules.count(r2.id) == 0);
  // "team-a" still uses the first rule.
  CHECK(code_of(ask_error<ok>(catalog, erase::value, rule::value, r.id)) ==
        ec::conflict);
}

TEST_CASE_METHOD(fixture, "invalid or unknown managers are refused",
                 "[actors]") {
  auto r = ask<grouping_rule>(catalog, create::value, new_rule());
  auto snapshot = view->get();
  SECTION("unknown rule on create") {
    auto err = ask_error<event_manager>(catalog, create::value,
                                        new_manager("no-such-rule"));
    CHECK(code_of(err) == ec::validation_failed);
    CHECK_THAT(message_of(err), Catch::Contains("grouping_rule_id"));
    CHECK_THAT(message_of(err), Catch::Contains("no-such-rule"));
  }
  SECTION("missing rule id") {
    auto err =
        ask_error<event_manager>(catalog, create::value, new_manager(""));
    CHECK(code_of(err) == ec::validation_failed);
    CHECK_THAT(message_of(err), Catch::Contains("grouping_rule_id"));
  }
  SECTION("bad webhook") {
    auto m = new_manager(r.id);
    m.webhook_url = "mailto:ops@example.com";
    auto err = ask_error<event_manager>(catalog, create::value, m);
    CHECK(code_of(err) == ec::validation_failed);
    CHECK_THAT(message_of(err), Catch::Contains("webhook_url"));
  }
  SECTION("unknown rule on update") {
    auto m = ask<event_manager>(catalog, create::value, new_manager(r.id));
    snapshot = view->get();
    m.grouping_rule_id = "no-such-rule";
    auto err = ask_error<event_manager>(catalog, update::value, m);
    CHECK(code_of(err) == ec::validation_failed);
    CHECK(view->get()->managers.at(m.id).grouping_rule_id == r.id);
  }
  SECTION("update of a missing manager") {
    auto err = ask_error<event_manager>(catalog, update::value,
                                        new_manager(r.id, "ghost"));
    CHECK(code_of(err) == ec::not_found);
    CHECK_THAT(message_of(err), Catch::Contains("ghost"));
  }
  SECTION("delete of a missing manager") {
    auto err = ask_error<ok>(catalog, erase::value, manager::value,
                             std::string{"ghost"});
    CHECK(code_of(err) == ec::not_found);
  }
  CHECK(view->get() == snapshot);
  CHECK(view->get()->managers.size() == snapshot->managers.size());
}

TEST_CASE_METHOD(fixture,
                 "API keys are stored, published, revoked and synced "
                 "(issue 14)",
                 "[actors]") {
  auto r = ask<grouping_rule>(catalog, create::value, new_rule());
  auto m = ask<event_manager>(catalog, create::value, new_manager(r.id, "pay"));
  auto made = argus::domain::generate_key(now());
  made.record.key_role = argus::domain::role::ingest;
  made.record.managers = {"pay"};
  auto stored_key =
      ask<argus::domain::api_key>(catalog, create::value, made.record);
  CHECK(stored_key.id == made.record.id);
  // Published (HTTP authenticates against the snapshot) and persisted.
  REQUIRE(view->get()->keys.count(made.record.id) == 1);
  CHECK(stored().keys.at(made.record.id).hash == made.record.hash);
  // A known id again, an unknown manager, an ingest key of none: refused.
  auto err =
      ask_error<argus::domain::api_key>(catalog, create::value, made.record);
  CHECK(code_of(err) == ec::conflict);
  auto other = argus::domain::generate_key(now()).record;
  other.key_role = argus::domain::role::ingest;
  other.managers = {"nope"};
  err = ask_error<argus::domain::api_key>(catalog, create::value, other);
  CHECK(code_of(err) == ec::validation_failed);
  other.managers.clear();
  err = ask_error<argus::domain::api_key>(catalog, create::value, other);
  CHECK(code_of(err) == ec::validation_failed);
  // Revoking stamps the time once and keeps the key listed.
  auto revoked = ask<argus::domain::api_key>(
      catalog, erase::value, argus::atom::key::value, made.record.id);
  CHECK(revoked.revoked_at == now());
  CHECK(view->get()->keys.at(made.record.id).revoked_at == now());
  CHECK(stored().keys.at(made.record.id).revoked_at == now());
  err = ask_error<argus::domain::api_key>(
      catalog, erase::value, argus::atom::key::value, std::string{"ghost"});
  CHECK(code_of(err) == ec::not_found);
  // A peer's key arrives as a change and is published as it is.
  argus::actors::catalog_change change;
  change.kind = argus::actors::catalog_change::put_key;
  change.key = other;
  change.key.managers = {m.id};
  (*self)->send(catalog, argus::atom::sync::value, change);
  sched->run();
  REQUIRE(view->get()->keys.count(other.id) == 1);
  CHECK(view->get()->keys.at(other.id).managers ==
        std::vector<std::string>{"pay"});
}
