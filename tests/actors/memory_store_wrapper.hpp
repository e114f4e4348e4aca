#pragma once

#include "storage/store.hpp"

#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace argus::test {

/// A store that hands every call to a memory store: tests derive from it and
/// override the one call whose behaviour they change (a write that fails, a
/// commit durable only later).
class memory_store_wrapper : public storage::store {
public:
  std::string backend() const override { return inner_->backend(); }
  caf::error write(const std::vector<domain::alert_write>& writes,
                   const storage::notifications& notes,
                   uint64_t applied_through) override {
    return inner_->write(writes, notes, applied_through);
  }
  caf::expected<std::shared_ptr<delivery::outbox>>
  open_outbox(const std::string& owner) override {
    return inner_->open_outbox(owner);
  }
  caf::expected<uint64_t> applied_through() override {
    return inner_->applied_through();
  }
  caf::expected<std::vector<domain::alert>>
  applied_after(uint64_t seq) override {
    return inner_->applied_after(seq);
  }
  caf::expected<std::vector<domain::alert>>
  list(const domain::alert_filter& filter) override {
    return inner_->list(filter);
  }
  caf::expected<std::vector<domain::alert>>
  by_dedup_key(const std::string& manager, const std::string& key) override {
    return inner_->by_dedup_key(manager, key);
  }
  caf::expected<std::vector<domain::alert>>
  children(const std::string& manager, const std::string& parent) override {
    return inner_->children(manager, parent);
  }
  caf::expected<std::vector<domain::alert>> open_work() override {
    return inner_->open_work();
  }
  caf::expected<std::pair<int64_t, int64_t>> count_by_status() override {
    return inner_->count_by_status();
  }
  caf::expected<dropped> drop_resolved(domain::time_point cutoff,
                                       size_t at_most) override {
    return inner_->drop_resolved(cutoff, at_most);
  }
  caf::expected<dropped_notifications>
  drop_notifications(domain::time_point cutoff, uint64_t after,
                     size_t at_most) override {
    return inner_->drop_notifications(cutoff, after, at_most);
  }
  caf::error put(const domain::grouping_rule& x) override {
    return inner_->put(x);
  }
  caf::error put(const domain::event_manager& x) override {
    return inner_->put(x);
  }
  caf::error put(const domain::silence& x) override { return inner_->put(x); }
  caf::error put(const domain::api_key& x) override { return inner_->put(x); }
  caf::error erase_rule(const std::string& id) override {
    return inner_->erase_rule(id);
  }
  caf::error erase_manager(const std::string& id) override {
    return inner_->erase_manager(id);
  }
  caf::error append(const domain::audit_entry& entry) override {
    return inner_->append(entry);
  }
  caf::expected<std::vector<domain::audit_entry>>
  audit(const domain::audit_filter& filter) override {
    return inner_->audit(filter);
  }
  caf::expected<domain::catalog> load_catalog() override {
    return inner_->load_catalog();
  }

private:
  std::unique_ptr<storage::store> inner_ = storage::make_memory_store();
};

} // namespace argus::test
