#include "actors/recovery.hpp"

#include "config/log.hpp"
#include "domain/alert.hpp"
#include "domain/error.hpp"

#include <caf/timestamp.hpp>

#include <filesystem>

namespace argus::actors {

namespace {

caf::expected<std::unique_ptr<storage::store>>
open_store(const config::storage_settings& s, size_t keep_notifications) {
  if (s.backend == "memory")
    return storage::make_memory_store(keep_notifications);
  if (s.backend == "postgres")
    return storage::open_postgres_store(s.dsn);
  return storage::open_sqlite_store(s.path, s.sqlite_cache_mb);
}

/// The journal's backend for these settings: a file journal beside the
/// SQLite database (or at ingest.journal_path).
caf::expected<std::unique_ptr<storage::journal_backend>>
open_journal_backend(const config::settings& s) {
  // With PostgreSQL the journal lives in the database, beside the state.
  if (s.storage.backend == "postgres")
    return storage::open_postgres_journal(s.storage.dsn);
  auto dir = s.ingest.journal_path;
  if (dir.empty())
    dir = (std::filesystem::path{s.storage.path}.parent_path() / "journal")
              .string();
  return storage::open_file_journal(dir);
}

/// Clustered: journals under a new id, holding that id's lock.
caf::error open_fenced_journal(const config::settings& settings, recovered& r) {
  r.incarnation = settings.cluster.node_id + "/" + domain::random_uuid();
  auto fenced = storage::open_postgres_fence(settings.storage.dsn);
  if (!fenced)
    return fenced.error();
  if (auto err = (*fenced)->hold(r.incarnation))
    return err;
  r.fence = std::move(*fenced);
  auto opened =
      storage::open_postgres_journal(settings.storage.dsn, r.incarnation);
  if (!opened)
    return opened.error();
  r.journal = std::move(*opened);
  return {};
}

/// A single node: where the store stands, what it already reflects beyond
/// that, and the journal to replay from.
caf::error open_local_journal(const config::settings& settings, recovered& r) {
  auto mark = r.store->applied_through();
  if (!mark)
    return mark.error();
  r.applied_through = *mark;
  auto changed = r.store->applied_after(r.applied_through);
  if (!changed)
    return changed.error();
  r.recent = std::move(*changed);
  auto opened = open_journal_backend(settings);
  if (!opened)
    return opened.error();
  r.journal = std::move(*opened);
  return {};
}

/// PostgreSQL may still commit what the process this one replaces sent
/// before it died (see storage/postgres_writes.hpp): its store is opened,
/// and read, once that process's sessions are gone. A clustered node's
/// predecessor is fenced like any dead peer.
caf::error await_previous_process(const config::settings& settings) {
  if (settings.storage.backend != "postgres" || settings.cluster.enabled())
    return {};
  auto fence = storage::open_postgres_fence(settings.storage.dsn);
  if (!fence)
    return fence.error();
  return (*fence)->await_writer_gone(storage::single_node_journal_id);
}

/// Stores the bootstrap admin key on the first start that sees it. A key
/// with its id already stored is left alone, so revoking it sticks.
caf::error install_bootstrap_key(const std::string& text, storage::store& store,
                                 domain::catalog& catalog) {
  if (text.empty())
    return {};
  auto key = domain::record_of(text, caf::make_timestamp());
  if (!key)
    return make_error(ec::validation_failed,
                      "the bootstrap key (auth.bootstrap_key_file or "
                      "ARGUS_BOOTSTRAP_KEY) is not an Argus key: expected "
                      "argus_<id>_<secret>, an id of 1 to 32 of [a-z0-9] and "
                      "a secret of at least 32 of [A-Za-z0-9]");
  if (catalog.keys.count(key->id) > 0)
    return {};
  key->key_role = domain::role::admin;
  key->created_by = "bootstrap";
  if (auto err = store.put(*key))
    return err;
  LOG_INFO("stored the bootstrap admin key " << key->prefix << "...");
  catalog.keys.emplace(key->id, *key);
  return {};
}

} // namespace

caf::expected<recovered> recover(const config::settings& settings) {
  recovered r;
  if (auto err = await_previous_process(settings))
    return err;
  auto store = open_store(settings.storage, settings.notifications.keep);
  if (!store)
    return store.error();
  r.store = std::move(*store);
  auto catalog = r.store->load_catalog();
  if (!catalog)
    return catalog.error();
  r.catalog = std::move(*catalog);
  if (auto err = install_bootstrap_key(settings.auth.bootstrap_key, *r.store,
                                       r.catalog))
    return err;
  auto clustered = settings.cluster.enabled();
  if (!clustered) {
    auto open_work = r.store->open_work();
    if (!open_work)
      return open_work.error();
    r.open_work = std::move(*open_work);
  }
  if (!config::journaled(settings))
    return r;
  auto err = clustered ? open_fenced_journal(settings, r)
                       : open_local_journal(settings, r);
  if (err)
    return err;
  return r;
}

} // namespace argus::actors
