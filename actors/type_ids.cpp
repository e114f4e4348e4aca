#include "actors/type_ids.hpp"

#include "actors/routed_event.hpp"

namespace argus::actors {

void register_types(caf::actor_system_config& cfg) {
  // add_message_type<T> also registers std::vector<T>.
  cfg.add_message_type<domain::event>("argus.event");
  cfg.add_message_type<domain::group_key>("argus.group_key");
  cfg.add_message_type<routed_event>("argus.routed_event");
  cfg.add_message_type<domain::alert>("argus.alert");
  cfg.add_message_type<domain::alert_write>("argus.alert_write");
  cfg.add_message_type<domain::alert_filter>("argus.alert_filter");
  cfg.add_message_type<domain::alert_page>("argus.alert_page");
  cfg.add_message_type<domain::group_query>("argus.group_query");
  cfg.add_message_type<domain::grouping_rule>("argus.grouping_rule");
  cfg.add_message_type<domain::event_manager>("argus.event_manager");
  cfg.add_message_type<domain::inhibit_rule>("argus.inhibit_rule");
  cfg.add_message_type<domain::silence>("argus.silence");
  cfg.add_message_type<domain::notification>("argus.notification");
  cfg.add_message_type<domain::delivery>("argus.delivery");
  cfg.add_message_type<domain::notification_filter>(
      "argus.notification_filter");
  cfg.add_message_type<domain::notification_record>(
      "argus.notification_record");
  cfg.add_message_type<std::vector<std::string>>("argus.strings");
  cfg.add_message_type<std::vector<int64_t>>("argus.counts");
  cfg.add_message_type<domain::alert_key>("argus.alert_key");
  cfg.add_message_type<domain::group_key>("argus.group_key");
  cfg.add_message_type<domain::alert_location>("argus.alert_location");
  cfg.add_message_type<node_status>("argus.node_status");
  cfg.add_message_type<group_view>("argus.group_view");
  cfg.add_message_type<event_submission>("argus.event_submission");
  cfg.add_message_type<member_info>("argus.member_info");
  cfg.add_message_type<catalog_change>("argus.catalog_change");
  cfg.add_message_type<domain::api_key>("argus.api_key");
  cfg.add_message_type<domain::new_key>("argus.new_key");
  cfg.add_message_type<domain::audit_entry>("argus.audit_entry");
  cfg.add_message_type<domain::audit_filter>("argus.audit_filter");
}

} // namespace argus::actors
