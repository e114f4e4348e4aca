#pragma once

#include "actors/routed_event.hpp"
#include "actors/type_ids.hpp"
#include "domain/group_list.hpp"

#include <caf/actor_system.hpp>
#include <caf/replies_to.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

/// Every typed actor interface of Argus, in one place.
namespace argus::actors {

/// The GROUPING actor: one per (event manager, grouping value). Owns the
/// group's active alerts, parent/child links and window (which ends by the
/// events' acceptance time, so no timer closes it), and the timers of its
/// alerts' deadlines.
using grouping_actor = caf::typed_actor<
    /// Applies events in arrival order.
    caf::reacts_to<atom::apply, std::vector<routed_event>>,
    /// INTERNAL: the acknowledgement timer (ack_timeout) fired; a stale
    /// token is ignored.
    caf::reacts_to<atom::expire, atom::acknowledge, uint64_t>,
    /// INTERNAL: the earliest alert end may have passed; a stale token is
    /// ignored.
    caf::reacts_to<atom::lapse, uint64_t>,
    /// INTERNAL: sends the changes gathered while the mailbox was busy to
    /// the repository as one message.
    caf::reacts_to<atom::flush>,
    /// The router retires this idle group.
    caf::reacts_to<atom::stop>,
    /// Answers once every earlier message was applied (shutdown, tests).
    caf::replies_to<atom::drain>::with<atom::ok>>;

/// The ROUTER actor: events of one event manager always pass the same
/// router, which spawns grouping actors on demand and knows which group
/// holds each active dedupKey.
using router_actor = caf::typed_actor<
    /// An accepted event from the front.
    caf::reacts_to<atom::apply, domain::event>,
    /// Accepted events from the front, in order.
    caf::reacts_to<atom::apply, std::vector<domain::event>>,
    /// INTERNAL: sends the events staged for each group as one message.
    caf::reacts_to<atom::flush>,
    /// Group `key` resolved these dedupKeys after receiving `n` events.
    caf::reacts_to<atom::deactivate, domain::group_key,
                   std::vector<std::string>, uint64_t>,
    /// Group `key` re-activated a dedupKey it had resolved.
    caf::reacts_to<atom::reactivate, domain::group_key, std::string>,
    /// Group `key` does not hold this event's dedupKey: route it afresh.
    caf::reacts_to<atom::reroute, domain::group_key, domain::event>,
    /// Group `key` is idle after receiving `n` events.
    caf::reacts_to<atom::idle, domain::group_key, uint64_t>,
    /// Group `key` ended without being told to stop (it failed, or was
    /// killed) for this reason: forget it.
    caf::reacts_to<atom::failed, domain::group_key, caf::error>,
    /// Rebuilds groups from persisted open work at start; the second list
    /// (alerts changed by journaled events past the high-water mark) guards
    /// the replay against applying an event twice.
    caf::replies_to<atom::restore, std::vector<domain::alert>,
                    std::vector<domain::alert>>::with<atom::ok>,
    /// The journal replay after a restart is over: forget its guard.
    caf::reacts_to<atom::replayed>,
    /// Where each alert key is active, by the dedupKey index: the group
    /// that holds it, or not found when this router holds it nowhere.
    caf::replies_to<atom::get, std::vector<domain::alert_key>>::with<
        std::vector<domain::alert_location>>,
    /// Cluster: stops the groups that node `self` does not own among the
    /// live members `live` (they are drained; the new owners load them).
    caf::replies_to<atom::release, std::vector<std::string>,
                    std::string>::with<atom::ok>,
    /// Answers once every group applied all it was sent.
    caf::replies_to<atom::drain>::with<atom::ok>,
    /// Live grouping actors of this router.
    caf::replies_to<atom::count>::with<uint64_t>>;

/// The REPOSITORY actor: writes alert changes behind in batched
/// transactions and answers reads. Reads first flush what is pending, so a
/// read sees every change the repository has received.
using repository_actor = caf::typed_actor<
    /// Alert changes from a grouping actor, in order, the notifications
    /// they caused (stored in the same transaction) and the journal
    /// sequence numbers of the events they complete.
    caf::reacts_to<atom::write, std::vector<domain::alert_write>,
                   std::vector<domain::notification>, std::vector<uint64_t>>,
    /// INTERNAL: the flush timer fired.
    caf::reacts_to<atom::tick, uint64_t>,
    /// INTERNAL: time to delete resolved alerts past retention.
    caf::reacts_to<atom::expire>,
    /// Writes everything pending now.
    caf::replies_to<atom::flush>::with<atom::ok>,
    /// Alerts matching a filter, newest first.
    caf::replies_to<atom::list,
                    domain::alert_filter>::with<std::vector<domain::alert>>,
    /// The active alerts of a manager that may inhibit others under its
    /// inhibit rules, after writing what is pending: what a fan-out reads
    /// to decide inhibition (a fraction of the active alerts, mostly).
    caf::replies_to<
        atom::list, std::string,
        std::vector<domain::inhibit_rule>>::with<std::vector<domain::alert>>,
    /// A page of the open groups a query selects, each its parent, and how
    /// many it selects: what the console lists, decided where the alerts
    /// are (`storage::store::list_where`) with the active silences at the
    /// time given, so that only the page is copied out.
    caf::replies_to<atom::list, domain::group_query,
                    std::map<std::string, domain::silence>,
                    domain::time_point>::with<domain::alert_page>,
    /// The same as the store has them now, without writing what is pending
    /// first: for counts that may lag (argusctl cluster) and must not wait
    /// for a large backlog.
    caf::replies_to<atom::peek,
                    domain::alert_filter>::with<std::vector<domain::alert>>,
    /// Alerts with a dedupKey (manager may be empty: all managers).
    caf::replies_to<atom::get, std::string,
                    std::string>::with<std::vector<domain::alert>>,
    /// Children of (manager, parent dedupKey).
    caf::replies_to<atom::children, std::string,
                    std::string>::with<std::vector<domain::alert>>,
    /// Active children of each of the manager's parents, by dedupKey.
    caf::replies_to<atom::children, atom::count, std::string,
                    std::vector<std::string>>::with<std::vector<int64_t>>,
    /// Alert counts {active, resolved}.
    caf::replies_to<atom::count>::with<int64_t, int64_t>,
    /// The open work to rebuild groups from (`storage::open_work`).
    caf::replies_to<atom::restore>::with<std::vector<domain::alert>>,
    /// Persists a rule / a manager (create or replace).
    caf::replies_to<atom::put, domain::grouping_rule>::with<atom::ok>,
    caf::replies_to<atom::put, domain::event_manager>::with<atom::ok>,
    /// Creates or replaces a silence.
    caf::replies_to<atom::put, domain::silence>::with<atom::ok>,
    /// Deletes a rule / a manager by id.
    caf::replies_to<atom::erase, atom::rule, std::string>::with<atom::ok>,
    caf::replies_to<atom::erase, atom::manager, std::string>::with<atom::ok>,
    /// Creates or replaces an API key (revoking replaces).
    caf::replies_to<atom::put, domain::api_key>::with<atom::ok>,
    /// Appends to the audit log; a failure is logged and counted, the
    /// change it records already happened.
    caf::reacts_to<atom::audit, domain::audit_entry>,
    /// Audit entries, newest first.
    caf::replies_to<atom::audit, domain::audit_filter>::with<
        std::vector<domain::audit_entry>>>;

/// The NOTIFIER actor: the actor face of delivery. Answers the listings and
/// manual retries of the outbox. (New notifications wake the delivery
/// worker straight from the repository's commit: `notifications_stored`.)
using notifier_actor = caf::typed_actor<
    /// Stored notifications with their deliveries, newest first.
    caf::replies_to<atom::list, domain::notification_filter>::with<
        std::vector<domain::notification_record>>,
    /// A manual retry of a notification's failed deliveries (to one
    /// receiver, or to all when empty).
    caf::replies_to<atom::retry, std::string, std::string>::with<atom::ok>>;

/// The CATALOG actor: owns grouping rules and event managers, persists every
/// change before it answers, and publishes an immutable snapshot that the
/// HTTP front reads without a round trip.
using catalog_actor = caf::typed_actor<
    /// Creates a rule (the id is generated) and returns it as stored.
    caf::replies_to<atom::create,
                    domain::grouping_rule>::with<domain::grouping_rule>,
    /// Replaces an existing rule's fields; returns it as stored.
    caf::replies_to<atom::update,
                    domain::grouping_rule>::with<domain::grouping_rule>,
    /// Deletes a rule no manager uses.
    caf::replies_to<atom::erase, atom::rule, std::string>::with<atom::ok>,
    /// Creates a manager (id generated when empty); returns it as stored.
    caf::replies_to<atom::create,
                    domain::event_manager>::with<domain::event_manager>,
    /// Replaces an existing manager's fields; returns it as stored.
    caf::replies_to<atom::update,
                    domain::event_manager>::with<domain::event_manager>,
    /// Deletes a manager; its alerts stay readable.
    caf::replies_to<atom::erase, atom::manager, std::string>::with<atom::ok>,
    /// Another node of the cluster made (and persisted) this change.
    caf::reacts_to<atom::sync, catalog_change>,
    /// Creates a silence (the id is generated); returns it as stored.
    caf::replies_to<atom::create, domain::silence>::with<domain::silence>,
    /// Replaces an existing silence's fields; returns it as stored.
    caf::replies_to<atom::update, domain::silence>::with<domain::silence>,
    /// Expires a silence now (it stays listed); returns it as stored.
    caf::replies_to<atom::erase, atom::silence,
                    std::string>::with<domain::silence>,
    /// Stores a new API key (made by the front, which alone saw its text);
    /// returns it as stored.
    caf::replies_to<atom::create, domain::api_key>::with<domain::api_key>,
    /// Revokes an API key now (it stays listed); returns it as stored.
    caf::replies_to<atom::erase, atom::key,
                    std::string>::with<domain::api_key>>;

/// The ADMIN actor: what argusctl talks to over remoting. It serves the HTTP
/// API's operations by messaging the same catalog, repository, notifier and
/// router actors, so both fronts share one code path.
using admin_actor = caf::typed_actor<
    /// The node's vital signs.
    caf::replies_to<atom::status>::with<node_status>,
    /// All rules, or one by id.
    caf::replies_to<atom::list,
                    atom::rule>::with<std::vector<domain::grouping_rule>>,
    caf::replies_to<atom::get, atom::rule,
                    std::string>::with<domain::grouping_rule>,
    /// Creates / replaces / deletes a rule through the catalog.
    caf::replies_to<atom::create,
                    domain::grouping_rule>::with<domain::grouping_rule>,
    caf::replies_to<atom::update,
                    domain::grouping_rule>::with<domain::grouping_rule>,
    caf::replies_to<atom::erase, atom::rule, std::string>::with<atom::ok>,
    /// All managers, or one by id.
    caf::replies_to<atom::list,
                    atom::manager>::with<std::vector<domain::event_manager>>,
    caf::replies_to<atom::get, atom::manager,
                    std::string>::with<domain::event_manager>,
    /// Creates / replaces / deletes a manager through the catalog.
    caf::replies_to<atom::create,
                    domain::event_manager>::with<domain::event_manager>,
    caf::replies_to<atom::update,
                    domain::event_manager>::with<domain::event_manager>,
    caf::replies_to<atom::erase, atom::manager, std::string>::with<atom::ok>,
    /// All silences (expired ones too); creates one; expires one.
    caf::replies_to<atom::list,
                    atom::silence>::with<std::vector<domain::silence>>,
    caf::replies_to<atom::create, domain::silence>::with<domain::silence>,
    caf::replies_to<atom::erase, atom::silence,
                    std::string>::with<domain::silence>,
    /// Alerts matching a filter (checked as the HTTP query is), newest first.
    caf::replies_to<atom::list,
                    domain::alert_filter>::with<std::vector<domain::alert>>,
    /// The alert of (manager, dedupKey); the manager may be empty when one
    /// manager alone uses the key.
    caf::replies_to<atom::get, atom::alert, std::string,
                    std::string>::with<domain::alert>,
    /// The children of that alert, which must be a parent.
    caf::replies_to<atom::children, std::string,
                    std::string>::with<std::vector<domain::alert>>,
    /// Checks an event against the catalog and hands it to its router.
    caf::replies_to<atom::ingest, event_submission>::with<atom::ok>,
    /// Active parents with their groups, of one manager (empty: all).
    caf::replies_to<atom::groups, std::string>::with<std::vector<group_view>>,
    /// Stored notifications with their deliveries, newest first.
    caf::replies_to<atom::list, atom::notify, domain::notification_filter>::
        with<std::vector<domain::notification_record>>,
    /// A manual retry of a notification's failed deliveries.
    caf::replies_to<atom::retry, std::string, std::string>::with<atom::ok>,
    /// Makes an API key with the role, managers and expiry of the given
    /// record; answers with the stored record and the key text (shown
    /// once).
    caf::replies_to<atom::create, atom::key,
                    domain::api_key>::with<domain::new_key>,
    /// Every API key (never their texts).
    caf::replies_to<atom::list, atom::key>::with<std::vector<domain::api_key>>,
    /// Revokes an API key; returns it as stored.
    caf::replies_to<atom::erase, atom::key, std::string>::with<domain::api_key>,
    /// The audit log, newest first.
    caf::replies_to<atom::audit, domain::audit_filter>::with<
        std::vector<domain::audit_entry>>,
    /// Cluster members with their state and owned groups (argusctl cluster).
    caf::replies_to<atom::members>::with<std::vector<member_info>>,
    /// A peer's cluster actor introduces itself; answers with the members
    /// this node knows, itself first.
    caf::replies_to<atom::join, member_info>::with<std::vector<member_info>>,
    /// The peer with this node id leaves the cluster cleanly.
    caf::reacts_to<atom::leave, std::string>,
    /// argusctl drain: this node leaves the cluster and shuts down.
    caf::replies_to<atom::leave>::with<atom::ok>,
    /// A peer changed (and persisted) the catalog.
    caf::reacts_to<atom::sync, catalog_change>,
    /// A peer hands over events this node owns; answers once they are
    /// journaled here, or with a conflict when this node does not own them.
    caf::replies_to<atom::forward, std::vector<domain::event>>::with<atom::ok>,
    /// Peer `id` drained and released what it does not own among `live`.
    caf::reacts_to<atom::handover, std::string, std::vector<std::string>>,
    /// Where this node's routers hold each alert key active, as the
    /// router's `get` answers.
    caf::replies_to<atom::get, std::vector<domain::alert_key>>::with<
        std::vector<domain::alert_location>>>;

/// The CLUSTER actor: this node's view of the membership. It connects to
/// the seeds (and to every member they name) over remoting, monitors each
/// peer's admin actor to notice failures, and counts who owns which open
/// group by rendezvous hashing over the live members.
using cluster_actor = caf::typed_actor<
    /// INTERNAL: connect to the node at `address` (attempt `n`).
    caf::reacts_to<atom::reconnect, std::string, uint32_t>,
    /// See admin_actor.
    caf::replies_to<atom::members>::with<std::vector<member_info>>,
    caf::replies_to<atom::join, member_info>::with<std::vector<member_info>>,
    caf::reacts_to<atom::leave, std::string>,
    /// This node leaves: tells every live peer; answers once they were told.
    caf::replies_to<atom::leave>::with<atom::ok>,
    /// This node's catalog changed: tell every live peer.
    caf::reacts_to<atom::publish, catalog_change>,
    /// A peer's catalog changed: hand it to this node's catalog.
    caf::reacts_to<atom::sync, catalog_change>,
    caf::replies_to<atom::forward, std::vector<domain::event>>::with<atom::ok>,
    caf::reacts_to<atom::handover, std::string, std::vector<std::string>>,
    caf::replies_to<atom::get, std::vector<domain::alert_key>>::with<
        std::vector<domain::alert_location>>,
    /// This node drained and released what it does not own among `live`:
    /// tell every live peer.
    caf::reacts_to<atom::handover, std::vector<std::string>>>;

} // namespace argus::actors
