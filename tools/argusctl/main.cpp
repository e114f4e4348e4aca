// argusctl: administers a running Argus node through its admin actor.
#include "domain/error.hpp"
#include "tools/argusctl/cli.hpp"
#include "tools/argusctl/client.hpp"
#include "tools/argusctl/commands.hpp"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

namespace {

using namespace argus::ctl;

int usage_failure(const usage_error& e) {
  std::cerr << "argusctl: " << e.what() << "\n\n" << usage_of(e.topic);
  return exit_usage;
}

/// Exits at once. A connection attempt may still be pending inside CAF's
/// middleman (a peer that accepts and never answers); an orderly shutdown
/// would wait for it, and the CLI promises a fast answer.
[[noreturn]] void exit_now(int code) {
  std::cout.flush();
  std::cerr.flush();
  std::fflush(nullptr);
  std::_Exit(code);
}

int run(const std::vector<std::string>& args) {
  auto inv = parse(args);
  if (inv.help) {
    auto topic = inv.words.empty() ? "" : inv.words.front();
    if (!topic.empty() && usage_of(topic) == usage_of(""))
      throw usage_error("", "unknown command '" + topic + "'");
    std::cout << usage_of(topic);
    return exit_ok;
  }
  auto act = prepare(inv);
  auto client = node_client::make(inv);
  if (!client)
    throw usage_error("", argus::message_of(client.error()));
  if (auto f = (*client)->connect()) {
    std::cerr << "argusctl: " << f->message << '\n';
    exit_now(f->code);
  }
  session s{inv, **client, std::cout, std::cerr};
  auto code = act(s);
  if (code == exit_unreachable)
    exit_now(code);
  return code;
}

} // namespace

int main(int argc, char** argv) {
  try {
    return run(std::vector<std::string>(argv + 1, argv + argc));
  } catch (const usage_error& e) {
    return usage_failure(e);
  }
}
