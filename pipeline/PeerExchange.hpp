#pragma once
// The engines of one process hand each other their peer-group tallies at every epoch
// boundary (models/PeerGroups), so each holds the model of the whole estate and a
// young entity is judged the same whichever engine owns it and however many there are.
//
// A barrier per epoch: every party hands its tally and waits for the others. The
// merged tally is a sum of integers, the same in any order of arrival. A party that
// waits longer than `patience` (a stage that stopped, engines restored from
// snapshots of different epochs) goes on with what came and the exchange counts it
// as incomplete: the live service never hangs on peers, and replay, whose engines
// all see every close point, never waits that long.
// Thread-safe.
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>

#include "models/PeerGroups.hpp"

namespace flowlier::pipeline {

class PeerExchange {
 public:
  explicit PeerExchange(std::uint32_t parties, std::chrono::milliseconds patience = std::chrono::seconds(30));

  // This party's tally for `epoch` in; every party's tally for it, merged, out.
  models::PeerContribution exchange(std::int64_t epoch, const models::PeerContribution& mine);
  // Wakes every waiting party and stops all later waits (shutdown).
  void cancel();

  std::uint32_t parties() const { return parties_; }
  std::uint64_t incomplete() const;

 private:
  struct Round {
    models::PeerContribution merged;
    std::uint32_t arrived = 0;
    std::uint32_t left = 0;
    bool given_up = false;
  };
  const std::uint32_t parties_;
  const std::chrono::milliseconds patience_;
  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::map<std::int64_t, Round> rounds_;
  bool cancelled_ = false;
  std::uint64_t incomplete_ = 0;
};

}  // namespace flowlier::pipeline
