#pragma once
// Subcommand registration for the flowlier executable; each lives in its own file.
#include <CLI/CLI.hpp>

namespace flowlier::app {

// `flowlier sim`: labelled AWS VPC flow log simulator (lab/Simulator.hpp).
void add_sim_command(CLI::App& app);
// `flowlier eval`: scores anomaly events against simulator labels (lab/Evaluator.hpp).
void add_eval_command(CLI::App& app);

}  // namespace flowlier::app
