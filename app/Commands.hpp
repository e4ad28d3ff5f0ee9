#pragma once
// Each subcommand registers itself on the CLI; main() only lists them.
#include <CLI/CLI.hpp>

namespace flowlier::app {

void add_normalize_command(CLI::App& app);
void add_replay_command(CLI::App& app);
void add_config_command(CLI::App& app);

}  // namespace flowlier::app
