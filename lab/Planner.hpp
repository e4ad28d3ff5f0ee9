#pragma once
// Plans a run from its config: draws the estate's shape and builds it, draws the benign
// zoo, the benign changes and the incidents, and writes the labels for all of them.
#include <optional>
#include <string>

#include "lab/Environment.hpp"
#include "lab/SimPlan.hpp"
#include "lab/Simulator.hpp"

namespace flowlier::lab::sim {

struct Prepared {
  Environment env;
  Plan plan;
};

// nullopt with `error` set when the config is unusable.
std::optional<Prepared> prepare(const SimConfig& config, std::string& error);

}  // namespace flowlier::lab::sim
