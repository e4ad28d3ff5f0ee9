#pragma once
// Peer groups: what the entities of one group (same kind, same subnet) do in a window,
// so an entity whose own baseline is still too young to page is judged against its
// peers (Elastic's "population analysis") instead of staying blind.
//
// Sufficient statistics only, in integers (log1p of each feature, fixed point), so
// tallies from several engines add up to the same numbers in any order: a process
// with N engines exchanges each engine's tally at every epoch boundary
// (pipeline/PeerExchange) and every engine then holds the same group model, whatever
// the thread count. The model is the sum of the last `memory_epochs` epochs (a ring,
// no decay rounding), so yesterday's autoscaled hosts still describe today's.
//
// A group's spread mixes windows of different hosts, so how far a window may stray is
// judged with a Student-t whose degrees of freedom come from the number of hosts (not
// windows): a handful of peers can never page, a subnet of twenty can.
#include <algorithm>
#include <array>
#include <cstdint>
#include <iosfwd>
#include <map>
#include <string>
#include <unordered_map>

#include "core/StateIo.hpp"
#include "core/TimeMath.hpp"
#include "models/Feature.hpp"

namespace flowlier::models {

struct PeerConfig {
  bool enabled = true;
  std::int64_t epoch_seconds = 3600;  // tallies are exchanged and added to the model once per epoch
  std::uint32_t memory_epochs = 24;   // the model is the sum of this many epochs
  std::uint32_t min_members = 5;      // hosts that contributed in one epoch, at least
  std::uint32_t min_windows = 120;    // member windows in the model, at least
  // A member's windows describe the group once its own baseline has this many
  // windows (a newcomer does not define normal for the next one).
  std::uint32_t contribute_after = 240;
  // An entity is judged by its peers while its own baseline has fewer windows than
  // this (the evidence floor keeps it from paging on its own until about then).
  std::uint32_t judge_until = 600;
  double min_spread = 0.35;  // in log space: peers are never more alike than a factor of ~1.4
  double evidence_power = 3.0;  // p >= (member windows + 1)^-evidence_power, as for an entity

  // The epoch a close point falls in (event times may precede 1970).
  std::int64_t epoch_of(std::int64_t close_point) const { return core::floor_div(close_point, epoch_seconds); }
};

// The features peers are compared on: magnitudes an entity's role drives. Novelty,
// repeated sources and decayed uploads depend on the entity's age, not its role.
inline constexpr std::array<Feature, 10> kPeerFeatures{
    Feature::flows,          Feature::packets,         Feature::bytes_in,     Feature::bytes_out,
    Feature::distinct_peers, Feature::distinct_ports,  Feature::rejected_flows, Feature::external_flows,
    Feature::fanout_peers,   Feature::external_client_flows};

// One group's windows in one epoch (or summed over several).
struct PeerTally {
  std::int64_t windows = 0;
  std::int64_t members = 0;  // distinct entities that contributed (per epoch; max over the ring)
  std::array<std::int64_t, kPeerFeatures.size()> sum{};
  std::array<std::int64_t, kPeerFeatures.size()> sum_squares{};

  void add_window(const FeatureVector& x);
  void add(const PeerTally& other);  // windows, members and sums add
};

// Tallies of one epoch by group hash (what an engine exchanges).
struct PeerContribution {
  std::unordered_map<std::uint64_t, PeerTally> groups;
  std::unordered_map<std::uint64_t, std::string> labels;  // "10.0.1.0/24", for explanations
  void add(const PeerContribution& other);
  bool empty() const { return groups.empty(); }
};

// How one window of a young entity compares with its group.
struct PeerReading {
  bool judged = false;  // the group is large enough to judge by
  std::size_t feature = 0;  // index into kPeerFeatures of the least probable feature
  double tail_probability = 1.0;
  std::array<double, kPeerFeatures.size()> feature_probability{};  // each feature's, floored alike
  double value = 0;
  double expected = 0;  // the group's typical value (geometric mean)
  double upper = 0;     // the value a member window exceeds about once in a thousand
  std::int64_t members = 0;
  std::string label;
};

// What a group looks like now (the entity API): per peer feature, its typical value
// and the value a member window exceeds about once in a thousand.
struct PeerSummary {
  bool known = false;
  std::string label;
  std::int64_t members = 0;
  std::int64_t windows = 0;
  std::array<double, kPeerFeatures.size()> typical{};
  std::array<double, kPeerFeatures.size()> upper{};
};

class PeerGroups {
 public:
  static constexpr const char* kTag = "peer_groups";
  static constexpr std::uint32_t kVersion = 1;

  // A member's window for this epoch's tally; `first_in_epoch` counts it as a member.
  void contribute(std::uint64_t group, const FeatureVector& x, bool first_in_epoch);
  // Names the group for explanations (once per epoch: labels travel with the tallies).
  bool labelled(std::uint64_t group) const { return open_.labels.contains(group); }
  void label(std::uint64_t group, std::string text) { open_.labels.emplace(group, std::move(text)); }
  // The tally gathered since the last seal, handed over (for the exchange).
  PeerContribution seal();
  // Adds the merged tallies of every engine for `epoch` to the model.
  void absorb(std::int64_t epoch, const PeerContribution& merged, const PeerConfig& config);

  PeerReading judge(std::uint64_t group, const FeatureVector& x, const PeerConfig& config) const;
  PeerSummary summary(std::uint64_t group, const PeerConfig& config) const;

  void save(std::ostream& out) const;
  std::string restore(std::istream& in);
  std::size_t group_count() const { return model_.size(); }

 private:
  struct Group {
    std::string label;
    std::map<std::int64_t, PeerTally> epochs;  // the last memory_epochs epochs that had windows
  };
  // The group's epochs summed: windows, sums, and the most members of one epoch.
  bool total(std::uint64_t group, PeerTally& sum, std::int64_t& members) const;
  // Mean and spread of one feature in log space.
  static std::pair<double, double> moments(const PeerTally& total, std::size_t feature, const PeerConfig& config);
  static double dof(std::int64_t members) { return std::clamp(static_cast<double>(members - 1), 1.0, 30.0); }

  PeerContribution open_;
  std::map<std::uint64_t, Group> model_;
};

}  // namespace flowlier::models
