#pragma once
// Makes a finding readable: which peers and ports drove the window, what the
// deviation looks like (a category such as port-scan or exfiltration), and one
// sentence with value against expected and bounds.
#include <string>
#include <vector>

#include "detectors/BeaconDetector.hpp"
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

// True when the entity sent more than it received and most of the window's bytes
// went to one external peer: the upload pattern (to a peer it had never reached
// before, with `new_peer_only`).
bool uploads_to_external_peer(const models::FeatureVector& features, const models::WindowAccumulator& window,
                              bool new_peer_only);

// "1.2 GB", "35 kB", "312" - values as an operator reads them.
std::string human_value(models::Feature feature, double value);

std::string explain(const AnomalyEvent& event, const std::vector<Contributor>& contributors);

// A beaconing finding: the peer and port checked in with (each carried all the contacts).
std::vector<Contributor> beacon_contributors(const detectors::BeaconFinding& finding);
// "... checks in with new external peer 203.0.113.9 on tcp/443 every 5.0 min (13
// contacts over 1.0 h): interval CV 0.04 against ~1 for unscheduled contacts ...".
std::string explain_beacon(const AnomalyEvent& event, const detectors::BeaconFinding& finding);

}  // namespace flowlier::pipeline
