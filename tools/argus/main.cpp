// argus: the Argus node daemon.
#include "actors/node.hpp"
#include "config/log.hpp"
#include "config/settings.hpp"
#include "domain/error.hpp"
#include "http/server.hpp"
#ifdef ARGUS_WITH_TCMALLOC
#include "prefault.hpp"
#endif

#include "version.hpp"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <malloc.h>
#include <pthread.h>
#include <string>

namespace {

#ifdef ARGUS_WITH_TCMALLOC
constexpr const char* allocator = "tcmalloc";
#else
constexpr const char* allocator = "glibc malloc";
#endif

constexpr const char* usage = "usage: argus [--config FILE] [--version]\n"
                              "  --config FILE  YAML settings "
                              "(default config/config.yaml)\n";

/// Blocks SIGINT/SIGTERM in this and every later thread, so that only the
/// main thread's sigwait sees them.
sigset_t block_stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

} // namespace

int main(int argc, char** argv) {
  std::string config_path = "config/config.yaml";
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--config" && i + 1 < argc) {
      config_path = argv[++i];
    } else if (arg.rfind("--config=", 0) == 0) {
      config_path = arg.substr(9);
    } else if (arg == "--version") {
      std::printf("argus %s\n", ARGUS_VERSION);
      return 0;
    } else if (arg == "--help" || arg == "-h") {
      std::fputs(usage, stdout);
      return 0;
    } else {
      std::fprintf(stderr, "argus: unknown argument '%s'\n%s", arg.c_str(),
                   usage);
      return 2;
    }
  }
  auto settings = argus::config::load_file(config_path);
  if (!settings) {
    std::fprintf(stderr, "argus: config error: %s\n",
                 argus::message_of(settings.error()).c_str());
    return 2;
  }
  if (auto err = argus::config::read_bootstrap_key(
          *settings, std::getenv("ARGUS_BOOTSTRAP_KEY"))) {
    std::fprintf(stderr, "argus: config error: %s\n",
                 argus::message_of(err).c_str());
    return 2;
  }
  argus::log::set_level(settings->log.level);
#ifdef ARGUS_WITH_TCMALLOC
  argus::prefault_heap_growth();
#else
  // glibc's malloc only (a build with -DARGUS_TCMALLOC=OFF); tcmalloc has no
  // arenas. Before any thread starts: arenas are assigned to threads as they
  // first allocate.
  if (settings->actors.malloc_arenas > 0 && !std::getenv("MALLOC_ARENA_MAX"))
    mallopt(M_ARENA_MAX, static_cast<int>(settings->actors.malloc_arenas));
#endif
  auto signals = block_stop_signals();
  auto ctx = std::make_shared<argus::actors::context>();
  // Tests only: shifts the node's clock (e.g. into a daylight saving
  // change) by whole seconds. Never set in production.
  if (auto shift = std::getenv("ARGUS_TEST_CLOCK_OFFSET_SECONDS")) {
    auto offset = std::chrono::seconds{std::atoll(shift)};
    ctx->now = [offset] {
      return argus::domain::time_point{std::chrono::system_clock::now()} +
             offset;
    };
    LOG_WARNING("test clock: the node's time is shifted by "
                << offset.count() << " s (ARGUS_TEST_CLOCK_OFFSET_SECONDS)");
  }
  auto node = argus::actors::node::start(*settings, std::move(ctx));
  if (!node) {
    LOG_ERROR("cannot start: " << argus::message_of(node.error()));
    return 1;
  }
  argus::http::server http{*settings, (*node)->front_door()};
  if (auto err = http.start()) {
    LOG_ERROR(argus::message_of(err));
    return 1;
  }
  LOG_INFO("argus " << ARGUS_VERSION << " ready (storage " << (*node)->backend()
                    << ", allocator " << allocator << ")");
  int sig = 0;
  sigwait(&signals, &sig);
  LOG_INFO("received " << strsignal(sig) << ", shutting down");
  // Order matters: no new requests, then drain the actors and flush the
  // store, then let the actor system go.
  http.stop();
  (*node)->stop();
  node->reset();
  LOG_INFO("stopped");
  return 0;
}
