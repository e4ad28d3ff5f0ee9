#pragma once
// Each subcommand registers itself on the CLI; main() only lists them.
#include <CLI/CLI.hpp>

namespace flowlier::app {

void add_normalize_command(CLI::App& app);
void add_replay_command(CLI::App& app);
void add_config_command(CLI::App& app);
// `flowlier run`: the live service (ZeroMQ in, scoring, ZeroMQ PUB out, metrics).
void add_run_command(CLI::App& app);
// `flowlier keygen`: CURVE key pairs for the live service's tcp endpoints.
void add_keygen_command(CLI::App& app);
// `flowlier sim`: labelled AWS VPC flow log simulator (lab/Simulator.hpp).
void add_sim_command(CLI::App& app);
// `flowlier eval`: scores anomaly events against simulator labels (lab/Evaluator.hpp).
void add_eval_command(CLI::App& app);
// `flowlier score-series`: NAB-style per-row anomaly scores of a timestamp,value CSV
// (models/SeriesScorer.hpp).
void add_score_series_command(CLI::App& app);
// `flowlier rules test`: what the config's [[rules]] would have done to past episodes.
void add_rules_command(CLI::App& app);

}  // namespace flowlier::app
