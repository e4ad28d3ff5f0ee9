// flowlier's entry point: argument parsing and wiring (service/ joins pipeline and transport).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "app/Commands.hpp"
#include "core/NearestName.hpp"

namespace {
// The names a mistyped argument of `app` could have meant: its option names for a flag,
// its subcommands for a word.
std::vector<std::string> known_names(const CLI::App& app, bool flag) {
  std::vector<std::string> names;
  if (flag) {
    for (const CLI::Option* option : app.get_options()) {
      for (const auto& name : option->get_lnames()) names.push_back("--" + name);
    }
  } else {
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
      names.push_back(sub->get_name());
  }
  return names;
}

// "did you mean --table?" for each flag the innermost parsed command did not expect (and
// for an unknown subcommand).
void suggest(const CLI::App& app) {
  const CLI::App* innermost = &app;
  while (true) {
    const auto parsed = innermost->get_subcommands();
    if (parsed.empty()) break;
    innermost = parsed.front();
  }
  std::vector<std::string> unexpected = innermost->remaining();
  if (unexpected.empty() && innermost != &app) unexpected = app.remaining();
  bool first_word = innermost == &app;  // only the first word can be a subcommand
  for (const auto& given : unexpected) {
    const bool flag = given.starts_with("--");
    if (!flag && !first_word) continue;
    first_word = first_word && flag;
    const std::string name = given.substr(0, given.find('='));
    if (const auto near = flowlier::core::nearest_name(name, known_names(*innermost, flag)); !near.empty()) {
      fmt::print(stderr, "{}: did you mean {}?\n", name, near);
    }
  }
}
}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"flowlier: anomaly detection for cloud network flow logs"};
  app.set_version_flag("--version", "flowlier " FLOWLIER_VERSION);
  app.require_subcommand(1);
  flowlier::app::add_normalize_command(app);
  flowlier::app::add_replay_command(app);
  flowlier::app::add_config_command(app);
  flowlier::app::add_run_command(app);
  flowlier::app::add_keygen_command(app);
  flowlier::app::add_sim_command(app);
  flowlier::app::add_eval_command(app);
  flowlier::app::add_score_series_command(app);
  flowlier::app::add_rules_command(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::RuntimeError& e) {
    return e.get_exit_code();  // a command's own failure, already reported
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);  // prints help, the version or the error
    if (code == 0) return 0;       // --help, --version
    // Wrong usage (unknown flag, bad value, missing argument): exit status 2, like the
    // commands' own usage errors, with the nearest flag when one is close.
    suggest(app);  // for each argument left unparsed (an unknown flag or subcommand)
    return 2;
  }
  return 0;
}
