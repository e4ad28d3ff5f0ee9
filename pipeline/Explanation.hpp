#pragma once
// Makes a finding readable: which peers and ports drove the window, what the
// deviation looks like (a category such as port-scan or exfiltration), and one
// sentence with value against expected and bounds.
#include <string>
#include <vector>

#include "models/EntityBaseline.hpp"
#include "models/WindowAccumulator.hpp"
#include "pipeline/AnomalyEvent.hpp"

namespace flowlier::pipeline {

// Top contributors for the deviating feature, heaviest first, with their shares.
std::vector<Contributor> contributors_for(models::Feature feature, const models::WindowAccumulator& window);

// A category name, or "" when the pattern is not one we can name.
std::string categorize(models::Feature feature, const models::FeatureVector& features,
                       const models::WindowScores& scores, const models::WindowAccumulator& window,
                       const std::vector<Contributor>& contributors);

// "1.2 GB", "35 kB", "312" - values as an operator reads them.
std::string human_value(models::Feature feature, double value);

std::string explain(const AnomalyEvent& event, const std::vector<Contributor>& contributors);

}  // namespace flowlier::pipeline
