// flowlier's entry point: the only place where pipeline and transport meet.
#include <CLI/CLI.hpp>

#include "app/Commands.hpp"

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
  CLI11_PARSE(app, argc, argv);
  return 0;
}
