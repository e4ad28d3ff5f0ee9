// flowlier config: print the default configuration, or check a file.
#include <fmt/format.h>

#include "app/Commands.hpp"
#include "pipeline/Config.hpp"
#include "transport/SinkConfig.hpp"

namespace flowlier::app {

void add_config_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("config", "Print the default configuration or check a configuration file");
  auto defaults = std::make_shared<bool>(false);
  auto check = std::make_shared<std::string>();
  cmd->add_flag("--defaults", *defaults, "Print the full default configuration, with comments");
  cmd->add_option("--check", *check, "Validate FILE and exit non-zero naming the first problem");
  cmd->callback([defaults, check] {
    if (!check->empty()) {
      auto loaded = pipeline::load_config_file(*check);
      if (!loaded.error.empty()) {
        fmt::print(stderr, "config error: {}\n", loaded.error);
        throw CLI::RuntimeError(2);
      }
      // [[sinks]] belongs to transport; the pipeline parser only leaves it alone.
      auto sinks = transport::read_sink_configs(loaded.config.document);
      if (!sinks.error.empty()) {
        fmt::print(stderr, "config error: {}\n", sinks.error);
        throw CLI::RuntimeError(2);
      }
      for (const auto& sink : sinks.sinks) fmt::print("{}\n", sink.redacted());
      fmt::print("{}: ok\n", *check);
      return;
    }
    if (*defaults) {
      fmt::print("{}", pipeline::default_config_text());
      return;
    }
    throw CLI::CallForHelp();
  });
}

}  // namespace flowlier::app
